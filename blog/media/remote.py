"""Fetching a file from another site (an import's images), without being turned against
the machine Pressroom runs on or its network.

An export names any address it likes, so every fetch is checked as a request from a
stranger would be: http or https only, no credentials in the address, and every address
the host name resolves to must be public (not loopback, private, link-local, the cloud
metadata address, carrier-grade NAT, multicast or reserved). The connection then goes to
the address that was checked, not to a second lookup that a hostile DNS server could
answer differently; HTTPS still verifies the certificate against the host name. Each
redirect is checked the same way, and there are limits on redirects, size and time.
A refusal says why, for the import summary.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from blog.media.images import MAX_BYTES

REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


class FetchRefused(Exception):
    """The file was not fetched; the message says why."""


@dataclass(frozen=True)
class Policy:
    max_bytes: int = MAX_BYTES  # what an upload may weigh
    timeout: float = 10.0  # seconds for each connect and read
    total_seconds: float = 30.0  # for the whole fetch, redirects included
    max_redirects: int = 5
    # Non-public networks a caller trusts explicitly (a test's own server on 127.0.0.1).
    # Empty by default: no configuration opens the machine's own network to an export.
    allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    def permits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(address in network for network in self.allowed):
            return True
        return address.is_global and not address.is_multicast


@dataclass
class Fetched:
    url: str  # where the file was found, after redirects
    content_type: str
    data: bytes


def fetch(url: str, policy: Policy = Policy()) -> Fetched:
    """The file at `url`, or FetchRefused saying why not."""
    deadline = time.monotonic() + policy.total_seconds
    for _ in range(policy.max_redirects + 1):
        parts = checked_address(url)
        address = resolve(parts.hostname, parts.port, parts.scheme, policy)
        response, connection = request(parts, address, policy, deadline)
        try:
            if response.status in REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchRefused(f"{response.status} without a Location")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise FetchRefused(f"the server answered {response.status} {response.reason}")
            data = read_limited(response, policy, deadline)
            content_type = response.getheader("Content-Type", "").split(";")[0].strip()
            return Fetched(url, content_type, data)
        finally:
            response.close()
            connection.close()
    raise FetchRefused(f"more than {policy.max_redirects} redirects")


def checked_address(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https addresses are fetched, not {parts.scheme!r}")
    if not parts.hostname:
        raise FetchRefused("the address has no host")
    if parts.username or parts.password:
        raise FetchRefused("addresses with a user name or password are not fetched")
    try:
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        raise FetchRefused("the address has a bad port") from None
    return parts


def resolve(host: str, port: int | None, scheme: str, policy: Policy) -> str:
    """The address to connect to: every address the name has must be permitted (a name
    with one public and one private address could be answered either way)."""
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchRefused(f"{host} could not be resolved ({error})") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    refused = [str(address) for address in addresses if not policy.permits(address)]
    if refused or not addresses:
        raise FetchRefused(f"{host} is not a public address ({', '.join(refused)})")
    return str(addresses[0])


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; the Host header still names the host."""

    def __init__(self, host, port, address, **options):
        super().__init__(host, port, **options)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As PinnedHTTPConnection, with the certificate checked against the host name."""

    def __init__(self, host, port, address, **options):
        super().__init__(host, port, context=ssl.create_default_context(), **options)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(parts, address: str, policy: Policy, deadline: float):
    kind = PinnedHTTPSConnection if parts.scheme == "https" else PinnedHTTPConnection
    timeout = max(0.1, min(policy.timeout, deadline - time.monotonic()))
    connection = kind(parts.hostname, parts.port, address, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("GET", path, headers={"User-Agent": "Pressroom import", "Accept": "*/*"})
        return connection.getresponse(), connection
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        raise FetchRefused(f"{parts.hostname} could not be reached ({error})") from None


def read_limited(response, policy: Policy, deadline: float) -> bytes:
    length = response.getheader("Content-Length")
    if length and length.isdigit() and int(length) > policy.max_bytes:
        raise FetchRefused(f"larger than {policy.max_bytes} bytes ({length})")
    chunks, size = [], 0
    try:
        while chunk := response.read(CHUNK):
            size += len(chunk)
            if size > policy.max_bytes:
                raise FetchRefused(f"larger than {policy.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchRefused(f"took longer than {policy.total_seconds:g} s")
            chunks.append(chunk)
    except (OSError, http.client.HTTPException) as error:
        raise FetchRefused(f"the download broke off ({error})") from None
    return b"".join(chunks)
