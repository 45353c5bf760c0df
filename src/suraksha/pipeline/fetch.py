"""Fetch media by URL without becoming an SSRF proxy.

Rules, each checked on the first request and on every redirect hop:
- only ``http`` and ``https``;
- when ``fetch_allowed_hosts`` is set, only those hosts (``example.com`` or ``*.example.com``) *and
  ports*: an entry without a port allows only the scheme's own port (80 for http, 443 for https);
  ``host:port`` (``[v6 address]:port``) allows that port. A redirect from an allowed host to
  another port of it (a database on 5432 beside the CDN) is therefore refused like any other host;
- the host is resolved here and *every* address must be public (not loopback, private, link-local,
  multicast, reserved, unspecified, shared/CGNAT); a host named in the allow-list may resolve to a
  private address (your own CDN inside your network) — nothing else may. With no allow-list any
  port of a public address may be fetched (nothing of ours listens there);
- the connection goes to the address we checked (the URL's host is kept for ``Host`` and TLS SNI
  and certificate checks), so a DNS answer that changes between check and connect cannot redirect us;
- the body is streamed and abandoned as soon as it exceeds the media size limit.

One deadline covers the whole fetch: name resolution, connect, TLS, headers and body of every
hop. A per-read timeout alone let a server that drips one header byte a second hold a fetch for
a minute against a 10 s limit, so every network operation here is given at most the time left
(``_Deadline``), and at the deadline a watchdog shuts the sockets down, which ends a read blocked
anywhere (inside a TLS handshake too) at once.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import typing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urljoin

import httpcore
import httpx

from suraksha.config import get_settings
from suraksha.errors import InvalidInput
from suraksha.pipeline.settings import get_pipeline_settings

Resolver = Callable[[str, int], list[str]]
DEFAULT_PORTS = {"http": 80, "https": 443}


class FetchError(InvalidInput):
    """A media URL could not or may not be fetched; the message says which and why."""


def _system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


# ---------------------------------------------------------------- the allow-list
def _split_entry(entry: str) -> tuple[str, int | None]:
    """``host``, ``*.host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare v6 address -> (host, port)."""
    entry = entry.lower().strip()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:  # a name, or an IPv6 address without brackets (so without a port)
        host, port = entry, ""
    return host.rstrip("."), int(port) if port.isdigit() else None


def _host_matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


def host_allowed(host: str, allowed: list[str], *, port: int | None = None, scheme: str = "https") -> bool:
    """Whether ``host`` (and ``port``; None: the scheme's own port) is allow-listed.

    An entry without a port allows only the scheme's own port; ``host:port`` allows that port.
    """
    host = host.lower().strip("[]").rstrip(".")
    port = DEFAULT_PORTS.get(scheme, 443) if port is None else port
    for entry in allowed:
        pattern, entry_port = _split_entry(entry)
        if _host_matches(host, pattern) and port == (DEFAULT_PORTS.get(scheme) if entry_port is None else entry_port):
            return True
    return False


def _host_listed_on_other_port(host: str, allowed: list[str]) -> bool:
    host = host.lower().strip("[]").rstrip(".")
    return any(_host_matches(host, _split_entry(entry)[0]) for entry in allowed)


def url_allowed(url: httpx.URL, allowed: list[str]) -> bool:
    """Whether the URL's host and port are allow-listed (see ``host_allowed``)."""
    return host_allowed(url.host, allowed, port=url.port, scheme=url.scheme)


def _forbidden_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for attr, name in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attr):
            return name
    if not ip.is_global:
        return "non-public"
    return None


def check_url(url: str, *, allowed_hosts: list[str], resolver: Resolver) -> tuple[httpx.URL, str]:
    """Validate one hop; returns the parsed URL and the address to connect to."""
    try:
        parsed = httpx.URL(url)
    except Exception as exc:  # noqa: BLE001 - httpx raises several types for junk
        raise FetchError(f"invalid media url {url[:200]!r}: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"media url scheme {parsed.scheme!r} refused: only http and https are fetched")
    host = parsed.host
    if not host:
        raise FetchError(f"media url {url[:200]!r} has no host")
    if parsed.userinfo:
        raise FetchError("media url with credentials (user:password@) refused")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    listed = bool(allowed_hosts) and url_allowed(parsed, allowed_hosts)
    if allowed_hosts and not listed:
        if _host_listed_on_other_port(host, allowed_hosts):
            raise FetchError(
                f"port {port} of host {host!r} is not in the media fetch allow-list "
                f"(SURAKSHA_FETCH_ALLOWED_HOSTS: an entry without a port allows only "
                f"{DEFAULT_PORTS[parsed.scheme]} for {parsed.scheme}; list '{host}:{port}' to allow it)"
            )
        raise FetchError(f"host {host!r} is not in the media fetch allow-list (SURAKSHA_FETCH_ALLOWED_HOSTS)")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolver(host, port)]
    if not addresses:
        raise FetchError(f"host {host!r} resolves to no address")
    if not listed:
        for ip in addresses:
            reason = _forbidden_reason(ip)
            if reason:
                raise FetchError(f"host {host!r} resolves to {reason} address {ip}: refused (allow-list the host to permit it)")
    return parsed, str(addresses[0])


# ---------------------------------------------------------------- one deadline for every network operation
class _Deadline(httpcore.NetworkBackend):
    """httpcore's own socket backend, with every connect, read and write given at most the time
    left before ``deadline``; ``cut()`` (the watchdog, at the deadline) shuts every socket down so
    a read blocked anywhere returns at once.

    Each socket is tracked through a duplicate of its descriptor: TLS takes the original socket
    object over (detaching it) during the handshake, and ``shutdown`` acts on the connection
    whichever descriptor names it; the duplicate also keeps the descriptor number from being
    reused by another connection before ``close()``.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._inner = httpcore.SyncBackend()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def left(self, timeout: float | None = None) -> float:
        remaining = self.deadline - time.monotonic()
        if self.expired or remaining <= 0:
            self.expired = True
            raise httpcore.ReadTimeout("media fetch deadline passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, timeout=self.left(timeout), local_address=local_address, socket_options=socket_options
        )
        dup = stream.get_extra_info("socket").dup()
        with self._lock:
            self._sockets.append(dup)
            cut = self.expired
        if cut:
            _shutdown(dup)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[typing.Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("media is never fetched over a unix socket")

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, self.left()))

    def cut(self) -> None:
        """The watchdog: the deadline passed; end every blocked operation now."""
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def close(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the peer or by us
        pass


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: _Deadline) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout=self._backend.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout=self._backend.left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname=server_hostname, timeout=self._backend.left(timeout))
        return _DeadlineStream(tls, self._backend)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


_HTTPCORE_ERRORS: tuple[type[Exception], ...] = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)


def _as_httpx_error(exc: Exception) -> httpx.HTTPError:
    if isinstance(exc, httpcore.TimeoutException):
        return httpx.TimeoutException(str(exc))
    return httpx.TransportError(f"{type(exc).__name__}: {exc}")


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except _HTTPCORE_ERRORS as exc:
            raise _as_httpx_error(exc) from exc

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


_ssl_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One verifying TLS context (certifi's roots, as httpx's default): building it loads the CA file."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context(trust_env=False)
    return _ssl_context


class _DeadlineTransport(httpx.BaseTransport):
    """httpx's HTTP/1.1 transport over the ``_Deadline`` backend (httpx takes no backend of its own)."""

    def __init__(self, backend: _Deadline) -> None:
        self._pool = httpcore.ConnectionPool(ssl_context=_tls(), network_backend=backend, retries=0)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port, target=request.url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            resp = self._pool.handle_request(core)
        except _HTTPCORE_ERRORS as exc:
            raise _as_httpx_error(exc) from exc
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_Body(typing.cast(Iterable[bytes], resp.stream)),
            extensions=resp.extensions,
        )

    def close(self) -> None:
        self._pool.close()


# A name that takes long to resolve counts against the deadline too; getaddrinfo has no timeout of
# its own, so it runs here and the fetch stops waiting when its time is up (the lookup thread
# finishes on its own; a few threads are enough for lookups, which are short when they work).
_resolvers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="suraksha-fetch-dns")


def _resolve_within(resolver: Resolver, deadline: float, timeout: float) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"media url timed out after {timeout:g} s")
        try:
            return _resolvers.submit(resolver, host, port).result(timeout=left)
        except FutureTimeout:
            raise FetchError(f"media url timed out after {timeout:g} s (resolving {host!r})") from None

    return resolve


# ---------------------------------------------------------------- the fetch
def fetch_media(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    allowed_hosts: list[str] | None = None,
    max_redirects: int | None = None,
    resolver: Resolver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """Download one media file under the rules above; raises ``FetchError`` with the reason.

    ``timeout`` is the whole fetch's: it ends within a fraction of a second of it, however the
    server paces its headers or body (``transport``, for tests, replaces the network entirely).
    """
    ps = get_pipeline_settings()
    max_bytes = get_settings().max_media_bytes if max_bytes is None else max_bytes
    timeout = ps.fetch_timeout_seconds if timeout is None else timeout
    allowed_hosts = ps.fetch_allowed_hosts if allowed_hosts is None else allowed_hosts
    max_redirects = ps.fetch_max_redirects if max_redirects is None else max_redirects
    deadline = time.monotonic() + timeout
    resolve = _resolve_within(resolver or _system_resolver, deadline, timeout)
    backend = _Deadline(deadline)
    watchdog = threading.Timer(timeout, backend.cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        with httpx.Client(transport=transport or _DeadlineTransport(backend), follow_redirects=False, trust_env=False) as client:
            return _fetch(
                client,
                url,
                backend,
                deadline,
                timeout=timeout,
                max_bytes=max_bytes,
                allowed_hosts=allowed_hosts,
                max_redirects=max_redirects,
                resolver=resolve,
            )
    finally:
        watchdog.cancel()
        backend.close()


def _fetch(
    client: httpx.Client,
    url: str,
    backend: _Deadline,
    deadline: float,
    *,
    timeout: float,
    max_bytes: int,
    allowed_hosts: list[str],
    max_redirects: int,
    resolver: Resolver,
) -> bytes:
    timed_out = f"media url timed out after {timeout:g} s"
    current = url
    for _hop in range(max_redirects + 1):
        parsed, address = check_url(current, allowed_hosts=allowed_hosts, resolver=resolver)
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(timed_out)
        pinned = parsed.copy_with(host=address)
        headers = {
            "Host": parsed.netloc.decode("ascii"),
            "Accept": "image/*, video/*, */*;q=0.1",
            "User-Agent": "Suraksha-media-fetch/1",
        }
        extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
        try:
            with client.stream("GET", pinned, headers=headers, extensions=extensions, timeout=httpx.Timeout(left)) as response:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"redirect from {current[:200]!r} without a Location header")
                    current = urljoin(str(parsed), location)
                    continue
                if response.status_code != 200:
                    raise FetchError(f"media url answered HTTP {response.status_code}")
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"media is {declared} bytes, over the {max_bytes}-byte limit")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"media exceeds the {max_bytes}-byte limit; download abandoned")
                    if time.monotonic() > deadline:
                        raise FetchError(f"media download took longer than {timeout:g} s; abandoned")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise FetchError(timed_out) from None
        except httpx.HTTPError as exc:
            if backend.expired:  # the watchdog cut the connection: a timeout, whatever the socket said
                raise FetchError(timed_out) from None
            raise FetchError(f"media url could not be fetched: {type(exc).__name__}: {exc}") from None
    raise FetchError(f"more than {max_redirects} redirects")
