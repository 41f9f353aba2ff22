"""Two hosts, one site: two gunicorn servers (ports of their own, instance folders of their
own, standing for two machines) on one PostgreSQL, one Redis and one object store
(moto's S3 server), with nginx balancing between them. What one host does, the other
sees at once; what is counted is counted across both; a host killed mid-burst loses no
write it acknowledged."""

import http.client
import http.cookiejar
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy

from tests.conftest import postgres_url, reset_postgres_schema, skip_unless_ci
from tests.served_site import BIN, PROJECT, free_port
from tests.test_deploy import Reader, wait_for_port
from tests.test_media import image_bytes
from tests.test_media_s3 import KEYS, s3_server  # noqa: F401 -- the fixture

PASSWORD = "a long enough password"
SCHEDULED_STATUS = "SELECT status FROM post WHERE slug = 'goes-out-by-itself'"


def read_body(answer) -> str:
    """The page, or as much of it as came: a host killed after its status line has still
    given its answer (the status is the acknowledgement), and the caller judges by it."""
    try:
        body = answer.read()
    except http.client.IncompleteRead as cut_off:
        body = cut_off.partial
    return body.decode(errors="replace")


class Browser:
    """Cookies kept as a browser keeps them (one site: they go to both hosts)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), Stay
        )

    def open(self, url: str, data: bytes | None = None, headers=None) -> tuple[int, str]:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, read_body(answer)
        except urllib.error.HTTPError as answer:
            with answer:
                return answer.code, read_body(answer)

    def token(self, url: str) -> str:
        status, page = self.open(url)
        assert status == 200, (url, status)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if token is None and "</html>" not in page:
            raise ConnectionAbortedError(f"{url}: the page was cut off before its form")
        return token.group(1)

    def post(self, url: str, fields: dict) -> tuple[int, str]:
        origin = "/".join(url.split("/")[:3])
        return self.open(url, urllib.parse.urlencode(fields).encode(),
                         {"Origin": origin, "Referer": url})  # fmt: skip

    def log_in(self, base: str) -> None:
        token = self.token(base + "/login")
        fields = {"csrf_token": token, "username": "ann", "password": PASSWORD}
        status, _ = self.post(base + "/login", fields)
        assert status == 302, status

    def new_post(self, base: str, title: str) -> int:
        token = self.token(base + "/admin/posts/new")
        status, _ = self.post(base + "/admin/posts/new",
                              {"csrf_token": token, "title": title, "body": f"{title}.",
                               "publish": "Publish"})  # fmt: skip
        return status


class Host:
    def __init__(self, name: str, folder: Path, env: dict):
        self.name, self.port = name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"{name}.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{self.port}",
                 "app:app"],
                cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, to be killed whole
            )  # fmt: skip

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def site(tmp_path_factory, s3_server):  # noqa: F811 -- the fixture
    """Two hosts, their balancer and what they share."""
    folder = tmp_path_factory.mktemp("two-hosts")
    database = postgres_url()
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(redis_url, socket_timeout=2).ping()
    except redis.RedisError:
        skip_unless_ci(f"no Redis at {redis_url}")
    reset_postgres_schema(database)
    bucket = f"two-hosts-{uuid.uuid4().hex[:10]}"
    config = (
        f'secret_key = "two-hosts-{uuid.uuid4().hex}"\n'
        '[site]\nurl = "http://127.0.0.1"\n'
        '[plugins]\nenabled = ["categories", "comments"]\n'
        '[plugins.comments]\nmin_seconds = 0\nmoderation = "none"\n'
        f'[media]\nstorage = "s3"\nbucket = "{bucket}"\nendpoint = "{s3_server}"\n'
        'region = "us-east-1"\n'
    )
    envs = []
    for name in ("a", "b"):
        instance = folder / name
        instance.mkdir()
        (instance / "config.toml").write_text(config)
        envs.append({**os.environ, **KEYS, "PRESSROOM_INSTANCE": str(instance),
                     "DATABASE_URL": database, "REDIS_URL": redis_url})  # fmt: skip
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                      aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    s3.create_bucket(Bucket=bucket)

    def flask(*args, stdin=""):
        return subprocess.run([BIN / "flask", "--app", "app", *args], cwd=PROJECT, env=envs[0],
                              input=stdin, capture_output=True, text=True, check=True)  # fmt: skip

    flask("db", "upgrade")
    flask("user", "create", "ann", "--email", "ann@example.com", "--role", "admin",
          stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    hosts = [Host(name, folder, env) for name, env in zip("ab", envs, strict=True)]
    balancer = start_balancer(folder, hosts)
    try:
        for host in hosts:
            wait_for_port(host.port, 60)
        wait_for_port(balancer[1], 20)
        yield {"hosts": hosts, "balancer": f"http://127.0.0.1:{balancer[1]}",
               "database": database, "redis": redis_url}  # fmt: skip
    finally:
        balancer[0].terminate()
        balancer[0].wait(timeout=10)
        for host in hosts:
            host.stop()
        reset_postgres_schema(database)


def start_balancer(folder: Path, hosts: list[Host]):
    nginx = "/usr/sbin/nginx"
    if not Path(nginx).exists():
        skip_unless_ci("nginx is not installed (apt-get install nginx)")
    port = free_port()
    servers = "".join(f"        server 127.0.0.1:{host.port} max_fails=1 fail_timeout=5s;\n"
                      for host in hosts)  # fmt: skip
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {folder}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    (folder / "nginx.conf").write_text(
        f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/nginx-error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp}    upstream hosts {{\n{servers}    }}\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n"
        "        location / {\n            proxy_pass http://hosts;\n"
        "            proxy_next_upstream error timeout;\n"
        "            proxy_set_header Host $http_host;\n        }\n    }\n}\n"
    )
    process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"),
                                "-g", "daemon off;"])  # fmt: skip
    return process, port


def query(database: str, sql: str, **values):
    engine = sqlalchemy.create_engine(database)
    try:
        with engine.begin() as connection:
            result = connection.execute(sqlalchemy.text(sql), values)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_login_on_one_host_is_valid_on_the_other(site):
    a, b = site["hosts"]
    browser = Browser()
    browser.log_in(a.base)
    assert browser.open(b.base + "/admin/")[0] == 200
    assert browser.open(site["balancer"] + "/admin/")[0] == 200


def test_a_post_saved_on_one_host_is_served_fresh_by_the_other(site):
    a, b = site["hosts"]
    reader = Browser()
    assert reader.open(b.base + "/")[0] == 200  # B keeps the home page (page cache)
    writer = Browser()
    writer.log_in(a.base)
    assert writer.new_post(a.base, "Fresh from A") == 302
    status, page = reader.open(b.base + "/")
    assert status == 200 and "Fresh from A" in page
    status, page = reader.open(b.base + "/fresh-from-a/")
    assert status == 200 and "Fresh from A" in page


def test_an_upload_through_one_host_is_served_by_the_other(site):
    a, b = site["hosts"]
    writer = Browser()
    writer.log_in(a.base)
    token = writer.token(a.base + "/admin/media/")
    boundary = "two-hosts-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\nA harbour\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="two.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image_bytes(700, 400)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _ = writer.open(a.base + "/admin/media/", body,
                            {"Content-Type": f"multipart/form-data; boundary={boundary}",
                             "Origin": a.base, "Referer": a.base + "/admin/media/"})  # fmt: skip
    assert status == 302
    [(url,)] = query(site["database"], "SELECT url FROM attachment WHERE url LIKE '%two%'")
    request = urllib.request.Request(b.base + url)
    for cookie in writer.jar:
        request.add_header("Cookie", f"{cookie.name}={cookie.value}")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"] == "image/jpeg"
        assert answer.read()[:2] == b"\xff\xd8"


def test_a_scheduled_post_is_published_exactly_once(site):
    a, b = site["hosts"]
    writer = Browser()
    writer.log_in(a.base)
    assert writer.new_post(a.base, "Goes out by itself") == 302
    query(site["database"], "UPDATE post SET status = 'scheduled', "
          "published_at = now() at time zone 'utc' + interval '2 seconds' "
          "WHERE slug = 'goes-out-by-itself'")  # fmt: skip
    [(version,)] = query(site["database"],
                         "SELECT version FROM post WHERE slug = 'goes-out-by-itself'")  # fmt: skip
    deadline = time.monotonic() + 75  # each process looks at least every 30 s
    status = "scheduled"
    while status == "scheduled" and time.monotonic() < deadline:
        for host in (a, b):  # both hosts' workers look, at once
            Browser().open(host.base + "/archive/")
        [(status,)] = query(site["database"], SCHEDULED_STATUS)
        time.sleep(0.5)
    assert status == "published"
    time.sleep(2)
    [(after,)] = query(site["database"],
                       "SELECT version FROM post WHERE slug = 'goes-out-by-itself'")  # fmt: skip
    assert after == version + 1  # one publication, not one per host
    logged = a.log.read_text() + b.log.read_text()
    # At most one host says it did (in the suite's process, an earlier test's app on the
    # same database may have got there first: the version above is what counts).
    assert len(re.findall(r"Published scheduled post \d+ \(goes-out-by-itself\)", logged)) <= 1


def test_the_login_throttle_counts_across_both_hosts(site):
    a, b = site["hosts"]
    answers = []
    for attempt in range(12):  # from an address of its own, so that others still log in
        reader = Reader((a, b)[attempt % 2].port, None, source="127.0.0.7", https=False)
        token = reader.token("/login")
        fields = {"csrf_token": token, "username": f"nobody{attempt}", "password": "wrong"}
        answers.append(reader.post_form("/login", fields)[0])
    # 10 failures from one address in 15 minutes, wherever they were counted.
    assert answers[:10] == [422] * 10 and answers[10:] == [429, 429], answers


def test_the_comment_rate_limit_counts_across_both_hosts(site):
    a, b = site["hosts"]
    writer = Browser()
    writer.log_in(a.base)
    assert writer.new_post(a.base, "Talk about it") == 302
    answers = []
    for number in range(7):  # 5 a minute from one address
        reader = Reader((a, b)[number % 2].port, None, source="127.0.0.8", https=False)
        status, _, page = reader.get("/talk-about-it/")
        started = re.search(rb'name="started" type="hidden" value="([^"]+)"', page).group(1)
        post_id = re.search(rb'action="/comments/(\d+)/#respond"', page).group(1).decode()
        fields = {"name": "Reader", "email": "reader@example.com", "started": started.decode(),
                  "body": f"Comment number {number}."}  # fmt: skip
        answers.append(reader.post_form(f"/comments/{post_id}/", fields)[0])
    assert answers[:5] == [303] * 5 and answers[5:] == [429, 429], answers


def test_killing_a_host_mid_burst_loses_no_acknowledged_write(site):
    a, b = site["hosts"]
    writer = Browser()
    writer.log_in(a.base)
    acknowledged, errors = [], []
    killed = threading.Event()

    def burst(host, count):
        for number in range(count):
            title = f"Burst {host.name} {number}"
            try:
                if writer.new_post(host.base, title) == 302:
                    acknowledged.append(title)
            except (OSError, http.client.HTTPException) as error:  # no answer, no promise
                errors.append(error)
                if killed.is_set():
                    return

    threads = [threading.Thread(target=burst, args=(host, 25)) for host in (a, b)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 12 and any(thread.is_alive() for thread in threads):
        time.sleep(0.05)
    assert len(acknowledged) >= 12, errors
    a.kill()
    killed.set()
    for thread in threads:
        thread.join()
    assert any(title.startswith("Burst b") for title in acknowledged)
    found = query(site["database"], "SELECT title FROM post WHERE title LIKE 'Burst %'")
    stored = {title for (title,) in found}
    missing = [title for title in acknowledged if title not in stored]
    assert not missing, f"acknowledged but lost: {missing}"
    # The balancer sends readers to the host still standing.
    assert Browser().open(site["balancer"] + "/")[0] == 200
