"""The shipped deployment, for real: deploy/nginx/pressroom.conf and deploy/caddy/Caddyfile
in front of gunicorn started as deploy/systemd/pressroom.service starts it, over HTTPS
with a certificate made here. Only the names, ports and folders of the files change.

Readers connect from 127.0.0.5 (a loopback address of their own); the proxy reaches
gunicorn from 127.0.0.1, the only address in [proxy] trusted. So the address the site
counts must be 127.0.0.5 whatever X-Forwarded-For a reader sends, and a reader who talks
to gunicorn directly (127.0.0.3) is believed about nothing.
"""

import datetime
import http.client
import io
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import time
from email import message_from_bytes
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import sqlalchemy
from PIL import Image

from tests.conftest import running_smtp_server, skip_unless_ci
from tests.served_site import BIN, PROJECT, free_port, served_site

DEPLOY = PROJECT / "deploy"
READER = "127.0.0.5"
DIRECT = "127.0.0.3"
PASSWORD = "correct horse battery staple 9"


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def shipped(path: Path, replacements: dict[str, str]) -> str:
    """The shipped file with our names, ports and folders; each one must be in it."""
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text, f"{path.name} no longer has {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


def gunicorn_options() -> list[str]:
    """The unit's ExecStart options, but for the bind address (the test picks a port)."""
    unit = (DEPLOY / "systemd" / "pressroom.service").read_text().replace("\\\n", " ")
    command = shlex.split(re.search(r"^ExecStart=(.*)$", unit, re.MULTILINE).group(1))
    assert command[0].endswith("/gunicorn") and "--bind" in command
    at = command.index("--bind")
    assert command[at + 1] == "127.0.0.1:8000"
    options = command[1:at] + command[at + 2 :]
    return options


class Nginx:
    name = "nginx"

    def __init__(self, folder: Path, ports: dict, cert: Path, key: Path, instance: Path):
        if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
            skip_unless_ci("nginx is not installed (apt-get install nginx)")
        site = shipped(
            DEPLOY / "nginx" / "pressroom.conf",
            {
                "    listen [::]:80;\n": "",
                "    listen [::]:443 ssl http2;\n": "",
                "listen 80;": f"listen 127.0.0.1:{ports['http']};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{ports['https']} ssl http2;",
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['app']};",
                "blog.example.com;": "localhost;",
                "/etc/letsencrypt/live/blog.example.com/fullchain.pem": str(cert),
                "/etc/letsencrypt/live/blog.example.com/privkey.pem": str(key),
                "/srv/pressroom/": f"{PROJECT}/",
                "/var/lib/pressroom/": f"{instance}/",
            },
        )
        (folder / "site.conf").write_text(site)
        user = "user root root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"    {kind}_temp_path {folder}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (folder / "nginx.conf").write_text(
            f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
            f"events {{}}\nhttp {{\n    include /etc/nginx/mime.types;\n"
            f"    access_log {folder}/access.log;\n{temp}    include {folder}/site.conf;\n}}\n"
        )
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"]
        )
        self.log = folder / "error.log"


class Caddy:
    name = "caddy"

    def __init__(self, folder: Path, ports: dict, cert: Path, key: Path, instance: Path):
        if shutil.which("caddy") is None:
            skip_unless_ci("Caddy is not installed (apt-get install caddy)")
        site = shipped(
            DEPLOY / "caddy" / "Caddyfile",
            {
                "blog.example.com {": f"https://localhost:{ports['https']} {{\n\ttls {cert} {key}",
                "reverse_proxy 127.0.0.1:8000": f"reverse_proxy 127.0.0.1:{ports['app']}",
                "/srv/pressroom/static": f"{PROJECT}/static",
                "/var/lib/pressroom/uploads": f"{instance}/uploads",
            },
        )
        # Global options for a test: no admin endpoint, ports of ours, state in the folder.
        options = (
            f"{{\n\tadmin off\n\thttp_port {ports['http']}\n\thttps_port {ports['https']}\n"
            f"\tdefault_bind 127.0.0.1\n\tstorage file_system {folder}/data\n"
            "\tskip_install_trust\n}\n\n"
        )
        (folder / "Caddyfile").write_text(options + site)
        env = {**os.environ, "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)}
        self.log = folder / "caddy.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["caddy", "run", "--adapter", "caddyfile", "--config", str(folder / "Caddyfile")],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip


class Reader:
    """An HTTPS client from READER's address that keeps its cookies as a browser would."""

    def __init__(self, port: int, cert: Path, source: str = READER, https: bool = True):
        self.port, self.source, self.https = port, source, https
        self.context = ssl.create_default_context(cafile=str(cert)) if https else None
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, body=None, headers=None) -> tuple:
        if self.https:
            connection = http.client.HTTPSConnection(
                "localhost", self.port, context=self.context, source_address=(self.source, 0),
                timeout=30,
            )  # fmt: skip
        else:
            connection = http.client.HTTPConnection(
                "localhost", self.port, source_address=(self.source, 0), timeout=30
            )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, data

    def get(self, path: str, **headers):
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict, **headers):
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.request("POST", path, urlencode(fields), headers)

    def request(self, method: str, path: str, body=None, headers=None) -> tuple:
        """As a browser sends it: a POST names the page it comes from."""
        headers = dict(headers or {})
        if method == "POST":
            origin = f"{'https' if self.https else 'http'}://localhost:{self.port}"
            headers.setdefault("Origin", origin)
            headers.setdefault("Referer", origin + path)
        return self.send(method, path, body, headers)

    def token(self, path: str) -> str:
        status, _, page = self.get(path)
        assert status == 200, (path, status)
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def multipart(fields: dict, file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "pressroom-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def events(database_url: str) -> list[tuple[str, str]]:
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT event, address FROM security_event ORDER BY id")
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


@pytest.fixture(scope="module")
def mail_server():
    """One SMTP server for the module's sites (the deployment is made once per proxy)."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture(scope="module", params=[Nginx, Caddy], ids=["nginx", "caddy"])
def deployed(request, tmp_path_factory, mail_server):
    """The site behind the proxy: (proxy, site, ports, certificate, mail received)."""
    smtp_port, received = mail_server
    tmp_path = tmp_path_factory.mktemp(request.param.name)
    ports = {"http": free_port(), "https": free_port()}
    cert, key = make_certificate(tmp_path)
    config = (
        f'[site]\nurl = "http://localhost:{ports["https"]}"\n'  # left at http:// on purpose
        '[proxy]\ntrusted = ["127.0.0.1"]\ninternal_uploads = "/_uploads/"\n'
        f'[mail]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
    )

    def setup(site):
        site.flask("user", "create", "ann", "--email", "ann@example.com", "--role", "admin",
                   stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip

    with served_site(
        tmp_path, config, 0, "/healthz", setup, gunicorn_args=gunicorn_options()
    ) as site:
        ports["app"] = int(site.base.rsplit(":", 1)[1])
        folder = tmp_path / "proxy"
        folder.mkdir()
        proxy = request.param(folder, ports, cert, key, site.instance)
        worker = None
        if site.env.get("REDIS_URL"):  # the pressroom-worker service (without Redis: gunicorn)
            worker = subprocess.Popen([BIN / "flask", "--app", "app", "worker"], cwd=PROJECT,
                                      env=site.env, stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            for name in ("https", "http"):  # Caddy may open its redirecting one second
                wait_for_port(ports[name])
            yield proxy, site, ports, cert, received
        finally:
            proxy.process.terminate()
            proxy.process.wait(timeout=10)
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)


def log_in(reader: Reader) -> None:
    token = reader.token("/login")
    status, headers, _ = reader.post_form(
        "/login", {"csrf_token": token, "username": "ann", "password": PASSWORD, "remember": "y"}
    )
    assert status == 302, status


def test_plain_http_is_sent_to_https(deployed):
    proxy, site, ports, cert, _ = deployed
    status, headers, _ = Reader(ports["http"], cert, https=False).get("/archive/")
    assert status in (301, 308)
    assert headers["Location"].startswith("https://localhost")


def test_over_https_cookies_are_secure_and_hsts_is_sent(deployed):
    proxy, site, ports, cert, _ = deployed
    reader = Reader(ports["https"], cert)
    status, headers, _ = reader.get("/")
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    if proxy.name == "nginx":  # its $request_id, which the app's log lines carry
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])
    token = reader.token("/login")
    status, headers, _ = reader.post_form(
        "/login", {"csrf_token": token, "username": "ann", "password": PASSWORD, "remember": "y"}
    )
    assert status == 302
    home = f"https://localhost:{ports['https']}/"
    assert urljoin(home, headers["Location"]) == home + "admin/"
    cookies = headers.get_all("Set-Cookie")
    assert {SimpleCookie(c).popitem()[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "secure" in flags and "httponly" in flags, cookie
    assert reader.get("/admin/")[0] == 200


def test_feeds_and_emails_link_over_https(deployed):
    proxy, site, ports, cert, received = deployed
    site.flask("post", "create", "--title", "Over HTTPS", "--status", "published",
               "--author", "ann", stdin="Hello.")  # fmt: skip
    reader = Reader(ports["https"], cert)
    status, _, feed = reader.get("/feed/")
    assert status == 200
    base = f"https://localhost:{ports['https']}/"
    assert f'href="{base}over-https/"'.encode() in feed
    assert b"http://localhost" not in feed

    token = reader.token("/password/forgot")
    before = len(received)
    status, _, _ = reader.post_form(
        "/password/forgot", {"csrf_token": token, "username": "ann@example.com"}
    )
    assert status in (200, 302)
    for _ in range(100):  # sent once the answer is out
        if len(received) > before:
            break
        time.sleep(0.1)
    text = message_from_bytes(received[before].content).get_payload(decode=True).decode()
    assert f"{base}password/" in text
    assert "http://localhost" not in text


def test_the_address_that_counts_is_the_one_the_proxy_saw(deployed):
    proxy, site, ports, cert, _ = deployed
    reader = Reader(ports["https"], cert)
    token = reader.token("/login")
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
    reader.post_form(
        "/login", {"csrf_token": token, "username": "ann", "password": "wrong guess"}, **forged
    )
    # Straight to gunicorn, claiming a proxy's headers: believed about nothing.
    direct = Reader(ports["app"], cert, source=DIRECT, https=False)
    token = direct.token("/login")
    status, headers, _ = direct.post_form(
        "/login",
        {"csrf_token": token, "username": "ann", "password": "another guess"},
        **{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
           "X-Forwarded-Host": "evil.example"},
    )  # fmt: skip
    assert "Strict-Transport-Security" not in headers
    assert all("secure" not in c.lower() for c in headers.get_all("Set-Cookie") or [])
    failed = [address for kind, address in events(site.database_url) if kind == "login-failed"]
    assert failed == [READER, DIRECT]


def test_the_login_throttle_counts_the_reader_not_the_header(deployed):
    proxy, site, ports, cert, _ = deployed
    reader = Reader(ports["https"], cert, source="127.0.0.6")  # the others' failures elsewhere
    token = reader.token("/login")
    answers = []
    for guess in range(12):  # 10 failures an address in 15 minutes, then 429
        status, _, _ = reader.post_form(
            "/login",
            {"csrf_token": token, "username": f"nobody{guess}", "password": "guess"},
            **{"X-Forwarded-For": f"198.51.100.{guess}"},
        )
        answers.append(status)
    assert answers[-1] == 429, answers
    failed = [address for kind, address in events(site.database_url) if kind == "login-failed"]
    assert failed.count("127.0.0.6") == 10


def test_uploads_are_sent_by_the_proxy_to_those_the_app_allows(deployed):
    proxy, site, ports, cert, _ = deployed
    owner = Reader(ports["https"], cert)
    log_in(owner)
    token = owner.token("/admin/media/")
    body, boundary = multipart(
        {"csrf_token": token, "alt_text": "A red square"}, "image", "red.png", png_bytes()
    )
    status, headers, _ = owner.request(
        "POST", "/admin/media/", body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    assert status in (200, 302), status
    stored = sorted((site.instance / "uploads").rglob("red*.png"))
    assert stored, "the upload did not reach the instance folder"
    original = min(stored, key=lambda path: len(path.name))
    address = "/uploads/" + original.relative_to(site.instance / "uploads").as_posix()

    status, headers, data = owner.get(address)
    assert status == 200
    assert data == original.read_bytes()
    assert headers["Content-Type"] == "image/png"
    assert headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in headers["Content-Security-Policy"]
    assert "X-Accel-Redirect" not in headers
    assert Reader(ports["https"], cert).get(address)[0] == 404  # only a draft could show it

    site.flask("post", "create", "--title", "Red", "--status", "published", "--author", "ann",
               stdin=f"![A red square]({address})")  # fmt: skip
    status, headers, data = Reader(ports["https"], cert).get(address)
    assert status == 200 and data == original.read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    # The bytes came from the proxy: the app sent none (its answer carries no length).
    assert int(headers["Content-Length"]) == len(data)


def test_static_files_are_sent_by_the_proxy(deployed):
    proxy, site, ports, cert, _ = deployed
    reader = Reader(ports["https"], cert)
    status, headers, data = reader.get("/static/style.css?v=0123456789")
    assert status == 200
    assert data == (PROJECT / "static" / "style.css").read_bytes() or headers.get(
        "Content-Encoding"
    )
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Content-Security-Policy" not in headers  # every answer of the app carries one
    status, headers, _ = reader.get("/static/style.css")
    assert headers["Cache-Control"] == "no-cache"


def test_addresses_in_pages_use_the_forwarded_name_and_scheme(deployed):
    proxy, site, ports, cert, _ = deployed
    reader = Reader(ports["https"], cert)
    status, headers, _ = reader.get("/archive")  # Werkzeug adds the slash with a redirect
    assert status in (301, 308)
    assert urlsplit(headers["Location"])[:2] == ("https", f"localhost:{ports['https']}")
