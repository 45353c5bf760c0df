"""Fetch media by URL without becoming an SSRF proxy.

Rules, each checked on the first request and on every redirect hop:
- only ``http`` and ``https``;
- when ``fetch_allowed_hosts`` is set, only those hosts (``example.com`` or ``*.example.com``);
- the host is resolved here and *every* address must be public (not loopback, private, link-local,
  multicast, reserved, unspecified, shared/CGNAT); a host named in the allow-list may resolve to a
  private address (your own CDN inside your network) — nothing else may;
- the connection goes to the address we checked (the URL's host is kept for ``Host`` and TLS SNI
  and certificate checks), so a DNS answer that changes between check and connect cannot redirect us;
- the body is streamed and abandoned as soon as it exceeds the media size limit; one deadline
  covers connect, headers and body.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from urllib.parse import urljoin

import httpx

from suraksha.config import get_settings
from suraksha.pipeline.settings import get_pipeline_settings

Resolver = Callable[[str, int], list[str]]


class FetchError(ValueError):
    """A media URL could not or may not be fetched; the message says which and why."""


def _system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in allowed:
        pattern = pattern.lower().strip().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


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
    listed = bool(allowed_hosts) and host_allowed(host, allowed_hosts)
    if allowed_hosts and not listed:
        raise FetchError(f"host {host!r} is not in the media fetch allow-list (SURAKSHA_FETCH_ALLOWED_HOSTS)")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
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
    """Download one media file under the rules above; raises ``FetchError`` with the reason."""
    ps = get_pipeline_settings()
    max_bytes = get_settings().max_media_bytes if max_bytes is None else max_bytes
    timeout = ps.fetch_timeout_seconds if timeout is None else timeout
    allowed_hosts = ps.fetch_allowed_hosts if allowed_hosts is None else allowed_hosts
    max_redirects = ps.fetch_max_redirects if max_redirects is None else max_redirects
    resolver = resolver or _system_resolver
    deadline = time.monotonic() + timeout

    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False) as client:
        current = url
        for _hop in range(max_redirects + 1):
            parsed, address = check_url(current, allowed_hosts=allowed_hosts, resolver=resolver)
            pinned = parsed.copy_with(host=address)
            headers = {"Host": parsed.netloc.decode("ascii"), "Accept": "image/*, video/*, */*;q=0.1",
                       "User-Agent": "Suraksha-media-fetch/1"}
            extensions = {"sni_hostname": parsed.host} if parsed.scheme == "https" else {}
            try:
                with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
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
                raise FetchError(f"media url timed out after {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"media url could not be fetched: {type(exc).__name__}: {exc}") from None
        raise FetchError(f"more than {max_redirects} redirects")
