"""blog/media/remote.py: fetching an import's files from other sites, and what it refuses.

Every request goes to a server of the test's own on 127.0.0.1, which the test allows
explicitly; the addresses that must be refused are refused before any connection.
"""

import contextlib
import http.server
import ipaddress
import threading
import time

import pytest

from blog.media.remote import FetchRefused, Policy, fetch

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
THE_TESTS_SERVER = Policy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))


class Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}

    def do_GET(self):  # noqa: N802 -- http.server's name
        with contextlib.suppress(ConnectionError):  # a client that gave up (the slow file)
            self.answer()

    def answer(self):
        self.server.seen.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b""))
        if callable(body):
            body = body()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value.format(base=self.server.base))
        if "Content-Length" not in headers and "chunked" not in headers.values():
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if headers.get("Transfer-Encoding") == "chunked":
            for start in range(0, len(body), 4096):
                piece = body[start : start + 4096]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    def slow():
        time.sleep(2)
        return PNG

    Handler.routes = {
        "/image.png": (200, {"Content-Type": "image/png"}, PNG),
        "/moved": (301, {"Location": "/image.png"}, b""),
        "/to-private": (302, {"Location": "http://10.1.2.3/image.png"}, b""),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/loop": (302, {"Location": "{base}/loop"}, b""),
        "/large": (200, {"Content-Type": "image/png"}, b"x" * 5000),
        "/large-chunked": (200, {"Transfer-Encoding": "chunked"}, b"x" * 20000),
        "/slow": (200, {"Content-Type": "image/png"}, slow),
        "/gone": (404, {}, b"no"),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.seen = []
    httpd.base = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def refusal(url, policy=None) -> str:
    with pytest.raises(FetchRefused) as refused:
        fetch(url, policy or Policy())
    return str(refused.value)


def test_a_server_the_caller_allows_is_fetched_after_redirects(server):
    fetched = fetch(f"{server.base}/moved", THE_TESTS_SERVER)

    assert fetched.data == PNG and fetched.content_type == "image/png"
    assert fetched.url == f"{server.base}/image.png"


def test_by_default_this_machine_is_refused_before_any_request(server):
    for url in (f"{server.base}/image.png", f"http://localhost:{server.server_port}/image.png"):
        assert "is not a public address" in refusal(url)
    assert server.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x.png",  # private
        "http://192.168.1.1/x.png",
        "http://172.16.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata address
        "http://100.64.0.1/x.png",  # carrier-grade NAT
        "http://0.0.0.0/x.png",
        "http://[::1]/x.png",
        "http://[::ffff:127.0.0.1]/x.png",  # 127.0.0.1 written as IPv6
        "http://[fe80::1]/x.png",  # IPv6 link-local
        "http://[fd00::1]/x.png",  # IPv6 private
        "http://224.0.0.1/x.png",  # multicast
        "http://2130706433/x.png",  # 127.0.0.1 as one number
        "http://0x7f.1/x.png",  # and in hex
    ],
)
def test_non_public_addresses_are_refused_in_every_spelling(url):
    assert "not a public address" in refusal(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x.png", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("http://user:secret@example.com/x.png", "user name or password"),
        ("http:///x.png", "no host"),
        ("http://example.com:99999999/x.png", "bad port"),
    ],
)
def test_other_schemes_and_odd_addresses_are_refused(url, reason):
    assert reason in refusal(url)


def test_a_redirect_is_checked_like_the_first_address(server):
    assert "10.1.2.3 is not a public address" in refusal(
        f"{server.base}/to-private", THE_TESTS_SERVER
    )
    assert "169.254.169.254 is not a public address" in refusal(
        f"{server.base}/to-metadata", THE_TESTS_SERVER
    )
    assert "more than 5 redirects" in refusal(f"{server.base}/loop", THE_TESTS_SERVER)


def test_size_and_time_are_limited(server):
    small = Policy(max_bytes=1000, allowed=THE_TESTS_SERVER.allowed)
    quick = Policy(timeout=0.5, allowed=THE_TESTS_SERVER.allowed)

    assert "larger than 1000 bytes (5000)" in refusal(f"{server.base}/large", small)
    assert "larger than 1000 bytes" in refusal(f"{server.base}/large-chunked", small)
    assert "timed out" in refusal(f"{server.base}/slow", quick)
    assert "answered 404" in refusal(f"{server.base}/gone", THE_TESTS_SERVER)


def test_a_name_that_does_not_resolve_is_refused():
    assert "could not be resolved" in refusal("http://no-such-host.invalid/x.png")
