"""A real site for tests that need several processes: a migrated instance served by gunicorn.

Runs on the database the suite runs on: a SQLite file (WAL, busy timeout) by default,
PostgreSQL when DATABASE_URL names it; with REDIS_URL, the site uses Redis as deployed
sites do (under a key prefix of its own).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import DATABASE_URL, ON_POSTGRES, reset_postgres_schema

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Site:
    base: str  # http://127.0.0.1:PORT
    database_url: str
    instance: Path
    env: dict

    def flask(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([BIN / "flask", "--app", "app", *args], cwd=PROJECT, env=self.env,
                              input=stdin, capture_output=True, text=True, check=True)  # fmt: skip


@contextmanager
def served_site(
    tmp_path: Path, config: str, workers: int, ready_path: str, setup=None, gunicorn_args=None
):
    """Yield a Site: `config` is config.toml below its secret key and database; `setup(site)`
    runs (flask commands) after `db upgrade` and before gunicorn starts. `gunicorn_args`,
    if given, replace the workers and log level (the bind address is always ours)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    database_url = DATABASE_URL if ON_POSTGRES else f"sqlite:///{instance / 'blog.sqlite3'}"
    if ON_POSTGRES:
        reset_postgres_schema(database_url)
    (instance / "config.toml").write_text(
        f'secret_key = "served-{uuid.uuid4().hex}"\n[database]\nurl = "{database_url}"\n{config}'
    )
    env = {**os.environ, "PRESSROOM_INSTANCE": str(instance)}
    env.pop("DATABASE_URL", None)
    port = free_port()
    site = Site(f"http://127.0.0.1:{port}", database_url, instance, env)
    site.flask("db", "upgrade")
    if setup is not None:
        setup(site)
    options = gunicorn_args or ["--workers", str(workers), "--log-level", "warning", "app:app"]
    server = subprocess.Popen(
        [BIN / "gunicorn", *options, "--bind", f"127.0.0.1:{port}"], cwd=PROJECT, env=env
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(site.base + ready_path, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        yield site
    finally:
        server.terminate()
        server.wait(timeout=30)
        if ON_POSTGRES:
            reset_postgres_schema(database_url)
