"""Media by URL: SSRF refusals (checked per redirect hop, host and port), size limit while streaming,
one deadline for the whole fetch however slowly the server answers."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from suraksha.pipeline.fetch import FetchError, fetch_media, url_allowed


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        path = self.path
        if path == "/img":
            body = b"IMG small picture"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
        elif path == "/big-chunked":  # no Content-Length: the limit must hold while streaming
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"200\r\n" + b"y" * 512 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", path.split("=", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":
            time.sleep(2)
            self.send_response(200)
            self.end_headers()
        elif path == "/slow-hop":  # each hop well inside the timeout; together far over it
            time.sleep(0.6)
            self.send_response(302)
            self.send_header("Location", "/slow-hop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


@pytest.fixture(scope="module")
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture
def allow_local(server) -> list[str]:
    """The test server's host AND port: an entry without a port allows only 80/443."""
    return [server.removeprefix("http://")]


def test_allow_listed_local_host_is_fetched(server, allow_local, home):
    assert fetch_media(f"{server}/img", allowed_hosts=allow_local) == b"IMG small picture"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:9/x", "loopback"),
        ("http://10.1.2.3/x", "private"),
        ("http://192.168.0.10/x", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/x", "loopback"),
        ("http://[::ffff:127.0.0.1]/x", "loopback"),
        ("http://0.0.0.0/x", "unspecified"),
        ("http://224.0.0.1/x", "multicast"),
        ("http://100.64.0.1/x", "non-public|private|reserved"),
    ],
)
def test_private_and_special_addresses_are_refused(url, reason, home):
    with pytest.raises(FetchError, match=reason):
        fetch_media(url, allowed_hosts=[])


def test_dns_names_are_resolved_and_every_address_checked(home):
    def resolver(host, port):
        return {"mixed.example": ["93.184.216.34", "10.0.0.7"], "internal.example": ["127.0.0.1"]}[host]

    with pytest.raises(FetchError, match="private address 10.0.0.7"):
        fetch_media("http://mixed.example/a.jpg", allowed_hosts=[], resolver=resolver)
    with pytest.raises(FetchError, match="loopback"):
        fetch_media("http://internal.example/a.jpg", allowed_hosts=[], resolver=resolver)


def test_connection_goes_to_the_checked_address(home):
    """DNS rebinding: we connect to the address we vetted, with the name only in Host/SNI."""
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["host"]))
        return httpx.Response(200, content=b"IMG ok")

    data = fetch_media(
        "http://cdn.example/a.jpg",
        allowed_hosts=[],
        resolver=lambda h, p: ["93.184.216.34"],
        transport=httpx.MockTransport(handler),
    )
    assert data == b"IMG ok" and seen == [("93.184.216.34", "cdn.example")]


def test_hosts_outside_the_allow_list_are_refused(home):
    with pytest.raises(FetchError, match="not in the media fetch allow-list"):
        fetch_media("https://elsewhere.example/a.jpg", allowed_hosts=["cdn.example.com", "*.media.example"])


def test_wildcard_allow_list(home):
    data = fetch_media(
        "http://img.media.example/a.jpg",
        allowed_hosts=["*.media.example"],
        resolver=lambda h, p: ["10.0.0.5"],  # allow-listed hosts may be internal
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"IMG")),
    )
    assert data == b"IMG"


def test_redirect_to_a_refused_host_is_refused(server, allow_local, home):
    with pytest.raises(FetchError, match="'localhost' is not in the media fetch allow-list"):
        fetch_media(f"{server}/redirect?to=http://localhost:1/secret", allowed_hosts=allow_local)


def test_redirect_from_public_to_private_is_refused(home):
    def handler(request):
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    with pytest.raises(FetchError, match="link-local"):
        fetch_media(
            "http://public.example/a",
            allowed_hosts=[],
            resolver=lambda h, p: ["93.184.216.34"],
            transport=httpx.MockTransport(handler),
        )


def test_redirects_followed_within_limit(server, allow_local, home):
    assert fetch_media(f"{server}/redirect?to=/img", allowed_hosts=allow_local) == b"IMG small picture"
    with pytest.raises(FetchError, match="more than 0 redirects"):
        fetch_media(f"{server}/redirect?to=/img", allowed_hosts=allow_local, max_redirects=0)


def test_size_limit_declared_and_streamed(server, allow_local, home):
    with pytest.raises(FetchError, match="5000 bytes, over the 1000-byte limit"):
        fetch_media(f"{server}/big-declared", allowed_hosts=allow_local, max_bytes=1000)
    with pytest.raises(FetchError, match="exceeds the 1000-byte limit"):
        fetch_media(f"{server}/big-chunked", allowed_hosts=allow_local, max_bytes=1000)


def test_timeout_and_http_errors(server, allow_local, home):
    with pytest.raises(FetchError, match="timed out"):
        fetch_media(f"{server}/slow", allowed_hosts=allow_local, timeout=0.3)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_media(f"{server}/missing", allowed_hosts=allow_local)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://example.com/a.jpg", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.com/a", "credentials"),
    ],
)
def test_other_schemes_and_credentials_refused(url, reason, home):
    with pytest.raises(FetchError, match=reason):
        fetch_media(url, allowed_hosts=[])


# ---------------------------------------------------------------- one deadline, however slowly the server answers
class _Dripper:
    """A raw socket server that answers every connection with ``head`` at once, then drips
    ``drip`` one byte every ``interval`` seconds until the client goes (or 60 s pass)."""

    def __init__(self, head: bytes, drip: bytes, interval: float = 0.1) -> None:
        self.head, self.drip, self.interval = head, drip, interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                conn.recv(65536)  # the request (or a TLS ClientHello)
                conn.sendall(self.head)
                end = time.monotonic() + 60
                for n in range(10**9):
                    if self.stop.is_set() or time.monotonic() > end:
                        return
                    conn.sendall(self.drip[n % len(self.drip) : n % len(self.drip) + 1])
                    time.sleep(self.interval)
            except OSError:  # the client gave up: what the test wants
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def dripper() -> Iterator[Callable[..., _Dripper]]:
    made: list[_Dripper] = []

    def make(head: bytes, drip: bytes, interval: float = 0.1) -> _Dripper:
        made.append(_Dripper(head, drip, interval))
        return made[-1]

    yield make
    for d in made:
        d.close()


def _fails_in_time(url: str, allowed: list[str], timeout: float) -> float:
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out|took longer"):
        fetch_media(url, allowed_hosts=allowed, timeout=timeout)
    return time.monotonic() - start


def test_dripped_headers_cannot_outlast_the_deadline(dripper, home):
    """Each header byte came well inside the read timeout, so per-read timeouts alone let this run 60 s."""
    d = dripper(b"HTTP/1.1 200 OK\r\n", b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n")
    took = _fails_in_time(f"http://127.0.0.1:{d.port}/a.jpg", [f"127.0.0.1:{d.port}"], timeout=1.5)
    assert took < 1.5 + 1.0, took


def test_dripped_body_cannot_outlast_the_deadline(dripper, home):
    d = dripper(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"x")
    took = _fails_in_time(f"http://127.0.0.1:{d.port}/a.jpg", [f"127.0.0.1:{d.port}"], timeout=1.5)
    assert took < 1.5 + 1.0, took


def test_dripped_tls_handshake_cannot_outlast_the_deadline(dripper, home):
    """A TLS record header announcing 16 KB, then one byte at a time: the reads are inside the TLS
    handshake, out of reach of the per-read budget (CPython bounds a handshake by its socket
    timeout as a whole; the watchdog's shutdown ends it at the deadline in any case)."""
    d = dripper(b"\x16\x03\x03\x40\x00", b"\x02")
    took = _fails_in_time(f"https://127.0.0.1:{d.port}/a.jpg", [f"127.0.0.1:{d.port}"], timeout=1.5)
    assert took < 1.5 + 1.0, took


def test_redirect_hops_share_one_deadline(server, allow_local, home):
    """Six hops of 0.6 s each: every hop is inside a 1.5 s timeout, the whole fetch is not."""
    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_media(f"{server}/slow-hop", allowed_hosts=allow_local, timeout=1.5, max_redirects=5)
    assert time.monotonic() - start < 1.5 + 1.0


def test_slow_name_resolution_counts_against_the_deadline(home):
    def resolver(host: str, port: int) -> list[str]:
        time.sleep(5)
        return ["93.184.216.34"]

    start = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_media("http://slow-dns.example/a.jpg", allowed_hosts=[], resolver=resolver, timeout=0.5)
    assert time.monotonic() - start < 1.5


# ---------------------------------------------------------------- the allow-list names ports too
def test_redirect_to_another_port_of_an_allowed_host_is_refused(server, allow_local, home):
    """The reported attack: an allowed host redirected to its own database port."""
    with pytest.raises(FetchError, match="port 5432 of host '127.0.0.1' is not in the media fetch allow-list"):
        fetch_media(f"{server}/redirect?to=http://127.0.0.1:5432/", allowed_hosts=allow_local)


def test_host_entry_without_a_port_allows_only_the_default_port(server, home):
    """'127.0.0.1' alone allows 80 (http) and 443 (https), not the test server's port."""
    with pytest.raises(FetchError, match="port .* is not in the media fetch allow-list"):
        fetch_media(f"{server}/img", allowed_hosts=["127.0.0.1"])


def test_redirect_to_a_listed_port_is_followed(server, home):
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{other.server_address[1]}/img"
        allowed = [server.removeprefix("http://"), f"127.0.0.1:{other.server_address[1]}"]
        assert fetch_media(f"{server}/redirect?to={target}", allowed_hosts=allowed) == b"IMG small picture"
    finally:
        other.shutdown()


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("http://cdn.example/a", ["cdn.example"]),
        ("https://cdn.example/a", ["cdn.example"]),
        ("http://cdn.example:80/a", ["cdn.example"]),
        ("http://img.cdn.example:8080/a", ["*.cdn.example:8080"]),
        ("http://[2001:db8::1]:8443/a", ["[2001:db8::1]:8443"]),
        ("https://[2001:db8::1]/a", ["2001:db8::1"]),
    ],
)
def test_allow_list_entries_match_host_and_port(url, allowed):
    assert url_allowed(httpx.URL(url), allowed)


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("http://cdn.example:5432/a", ["cdn.example"]),
        ("https://cdn.example:80/a", ["cdn.example"]),
        ("http://cdn.example/a", ["cdn.example:8080"]),
        ("http://img.cdn.example:5432/a", ["*.cdn.example"]),
        ("http://[2001:db8::1]:5432/a", ["[2001:db8::1]:8443"]),
    ],
)
def test_allow_list_refuses_other_ports(url, allowed):
    assert not url_allowed(httpx.URL(url), allowed)
