"""Media by URL: SSRF refusals (checked per redirect hop), size limit while streaming, timeouts."""

from __future__ import annotations

import http.server
import threading
import time

import httpx
import pytest

from suraksha.pipeline.fetch import FetchError, fetch_media


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


ALLOW_LOCAL = ["127.0.0.1"]


def test_allow_listed_local_host_is_fetched(server, home):
    assert fetch_media(f"{server}/img", allowed_hosts=ALLOW_LOCAL) == b"IMG small picture"


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1:9/x", "loopback"),
    ("http://10.1.2.3/x", "private"),
    ("http://192.168.0.10/x", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/x", "loopback"),
    ("http://[::ffff:127.0.0.1]/x", "loopback"),
    ("http://0.0.0.0/x", "unspecified"),
    ("http://224.0.0.1/x", "multicast"),
    ("http://100.64.0.1/x", "non-public|private|reserved"),
])
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

    data = fetch_media("http://cdn.example/a.jpg", allowed_hosts=[], resolver=lambda h, p: ["93.184.216.34"],
                       transport=httpx.MockTransport(handler))
    assert data == b"IMG ok" and seen == [("93.184.216.34", "cdn.example")]


def test_hosts_outside_the_allow_list_are_refused(home):
    with pytest.raises(FetchError, match="not in the media fetch allow-list"):
        fetch_media("https://elsewhere.example/a.jpg", allowed_hosts=["cdn.example.com", "*.media.example"])


def test_wildcard_allow_list(home):
    data = fetch_media("http://img.media.example/a.jpg", allowed_hosts=["*.media.example"],
                       resolver=lambda h, p: ["10.0.0.5"],  # allow-listed hosts may be internal
                       transport=httpx.MockTransport(lambda r: httpx.Response(200, content=b"IMG")))
    assert data == b"IMG"


def test_redirect_to_a_refused_host_is_refused(server, home):
    with pytest.raises(FetchError, match="'localhost' is not in the media fetch allow-list"):
        fetch_media(f"{server}/redirect?to=http://localhost:1/secret", allowed_hosts=ALLOW_LOCAL)


def test_redirect_from_public_to_private_is_refused(home):
    def handler(request):
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    with pytest.raises(FetchError, match="link-local"):
        fetch_media("http://public.example/a", allowed_hosts=[], resolver=lambda h, p: ["93.184.216.34"],
                    transport=httpx.MockTransport(handler))


def test_redirects_followed_within_limit(server, home):
    assert fetch_media(f"{server}/redirect?to=/img", allowed_hosts=ALLOW_LOCAL) == b"IMG small picture"
    with pytest.raises(FetchError, match="more than 0 redirects"):
        fetch_media(f"{server}/redirect?to=/img", allowed_hosts=ALLOW_LOCAL, max_redirects=0)


def test_size_limit_declared_and_streamed(server, home):
    with pytest.raises(FetchError, match="5000 bytes, over the 1000-byte limit"):
        fetch_media(f"{server}/big-declared", allowed_hosts=ALLOW_LOCAL, max_bytes=1000)
    with pytest.raises(FetchError, match="exceeds the 1000-byte limit"):
        fetch_media(f"{server}/big-chunked", allowed_hosts=ALLOW_LOCAL, max_bytes=1000)


def test_timeout_and_http_errors(server, home):
    with pytest.raises(FetchError, match="timed out"):
        fetch_media(f"{server}/slow", allowed_hosts=ALLOW_LOCAL, timeout=0.3)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch_media(f"{server}/missing", allowed_hosts=ALLOW_LOCAL)


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/a.jpg", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("http://user:pw@example.com/a", "credentials"),
])
def test_other_schemes_and_credentials_refused(url, reason, home):
    with pytest.raises(FetchError, match=reason):
        fetch_media(url, allowed_hosts=[])
