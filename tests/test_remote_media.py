"""blog/media/remote.py: fetching an import's files from other sites, and what it refuses.

Every request goes to a server of the test's own on 127.0.0.1, which the test allows
explicitly; the addresses that must be refused are refused before any connection.
"""

import ipaddress
import time

import pytest

from blog.media.remote import FetchRefused, Policy, fetch
from tests.conftest import running_web_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
THE_TESTS_SERVER = Policy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))


@pytest.fixture
def server():
    def slow():
        time.sleep(2)
        return PNG

    with running_web_server({
        "/image.png": (200, {"Content-Type": "image/png"}, PNG),
        "/moved": (301, {"Location": "/image.png"}, b""),
        "/to-private": (302, {"Location": "http://10.1.2.3/image.png"}, b""),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/loop": (302, {"Location": "{base}/loop"}, b""),
        "/large": (200, {"Content-Type": "image/png"}, b"x" * 5000),
        "/large-chunked": (200, {"Transfer-Encoding": "chunked"}, b"x" * 20000),
        "/slow": (200, {"Content-Type": "image/png"}, slow),
        "/gone": (404, {}, b"no"),
    }) as site:  # fmt: skip
        yield site


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
