"""`flask --app app doctor`: checks a deployment and says what to fix, one line a check.

Each check answers ok, warn (works, but not as a site on the internet should) or fail
(something is broken); the command exits non-zero when any check does not answer ok, so
that a deploy script can stop on it.
"""

import os
import smtplib
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
import redis
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blog import health, jobs, mail
from blog.config import CONFIG_FILE
from blog.database import db

# Secret keys people paste from tutorials; a key must also be long and varied.
KNOWN_KEYS = {"dev", "test", "secret", "changeme", "change-me", "your-secret-key", "supersecret"}
MIN_KEY_LENGTH = 32
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


@dataclass
class Finding:
    level: str  # "ok", "warn" or "fail"
    check: str
    message: str


Check = Callable[[], Iterator[Finding]]
CHECKS: list[Check] = []


def check(function: Check) -> Check:
    CHECKS.append(function)
    return function


@check
def secret_key() -> Iterator[Finding]:
    key = current_app.config.get("SECRET_KEY") or ""
    if key.lower() in KNOWN_KEYS or len(key) < MIN_KEY_LENGTH or len(set(key)) < 10:
        yield Finding("fail", "secret key", f"weak: use at least {MIN_KEY_LENGTH} random "
                      "characters, e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'"
                      " (everyone is logged out)")  # fmt: skip
    else:
        yield Finding("ok", "secret key", f"{len(key)} characters")


@check
def instance_permissions() -> Iterator[Finding]:
    folder = Path(current_app.instance_path)
    config_file = folder / CONFIG_FILE
    if config_file.exists():
        mode = stat.S_IMODE(config_file.stat().st_mode)
        if mode & 0o077:
            yield Finding("fail", "permissions", f"{config_file} is mode {mode:o}: it holds the "
                          f"secret key; chmod 600 {config_file}")  # fmt: skip
        else:
            yield Finding("ok", "permissions", f"{config_file} is mode {mode:o}")
    if folder.exists():
        mode = stat.S_IMODE(folder.stat().st_mode)
        if mode & 0o002:
            yield Finding("fail", "permissions", f"{folder} is writable by everyone (mode "
                          f"{mode:o}): chmod o-w {folder}")  # fmt: skip
    uploads = folder / "uploads"
    target = uploads if uploads.exists() else folder
    if not os.access(target, os.W_OK):
        yield Finding("fail", "permissions", f"{target} is not writable by this user: uploads "
                      "and the throttle's counts cannot be stored")  # fmt: skip


@check
def https_and_proxy() -> Iterator[Finding]:
    url = urlsplit(current_app.config["SITE"]["url"])
    proxy = current_app.config["PROXY"]
    local = (url.hostname or "") in LOOPBACK
    if url.scheme != "https" and not local:
        yield Finding("warn", "https", f"[site] url is {url.scheme}://: serve the site over "
                      'HTTPS (README "Production") and set url = "https://..."')  # fmt: skip
    elif url.scheme == "https":
        yield Finding("ok", "https", "[site] url is https://")
    if url.scheme == "https" and not proxy["trusted"]:
        yield Finding("warn", "proxy", "[proxy] trusted is empty: behind nginx or Caddy set "
                      'trusted = ["127.0.0.1"], or the throttle counts every reader as the '
                      "proxy, and cookies are not marked Secure")  # fmt: skip
    elif proxy["trusted"]:
        wide = [entry for entry in proxy["trusted"] if entry.endswith("/0")]
        if wide:
            yield Finding("fail", "proxy", f"[proxy] trusted has {', '.join(wide)}: anyone could "
                          "then choose the address the throttle counts")  # fmt: skip
        else:
            yield Finding("ok", "proxy", "X-Forwarded-* believed from " +
                          ", ".join(proxy["trusted"]))  # fmt: skip


@check
def database() -> Iterator[Finding]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        yield Finding("fail", "database", f"cannot reach it: {type(error).__name__}: "
                      f"{str(error).splitlines()[0]}")  # fmt: skip
        return
    yield Finding("ok", "database", db.engine.url.render_as_string(hide_password=True))
    missing = health.missing_migrations()
    if missing:
        yield Finding("fail", "migrations", f"not applied: {', '.join(sorted(missing))}; run "
                      "flask --app app db upgrade")  # fmt: skip
    else:
        yield Finding("ok", "migrations", "every migration is applied")


@check
def queue() -> Iterator[Finding]:
    the_queue = jobs.the_queue()
    if isinstance(the_queue, jobs.RedisQueue):
        try:
            the_queue.connection.ping()
        except redis.RedisError as error:
            yield Finding("fail", "redis", f"cannot reach REDIS_URL: {error}")
            return
        yield Finding("ok", "redis", "answers")
        if not the_queue.workers():
            yield Finding("warn", "jobs", "no worker is running: start flask --app app worker "
                          "(the pressroom-worker service), or email waits")  # fmt: skip
    elif not current_app.config["JOBS"]["in_process"]:
        yield Finding("ok", "jobs", "the job table, worked by flask --app app worker only")
    failed = [job for job in the_queue.shown() if job.state == "failed"]
    if failed:
        yield Finding("warn", "jobs", f"{len(failed)} failed job(s): see /admin/jobs")
    elif isinstance(the_queue, jobs.DatabaseQueue):
        yield Finding("ok", "jobs", "the job table; no failed job")


@check
def mail_server() -> Iterator[Finding]:
    settings = current_app.config["MAIL"]
    if not settings["host"]:
        yield Finding("warn", "mail", "[mail] host is not set: no password links, and "
                      "notifications go to the comments plugin's smtp_host")  # fmt: skip
        return
    try:
        connection = smtplib.SMTP(settings["host"], settings["port"], timeout=mail.TIMEOUT)
        connection.noop()
        connection.quit()
    except (OSError, smtplib.SMTPException) as error:
        yield Finding("warn", "mail", f"{settings['host']}:{settings['port']} does not answer "
                      f"({error}): email waits in the job queue")  # fmt: skip
        return
    yield Finding("ok", "mail", f"{settings['host']}:{settings['port']} answers")


@click.command("doctor")
@with_appcontext
def doctor():
    """Check this deployment (secret key, permissions, HTTPS and proxy, database and
    migrations, the job queue, mail) and say what to fix."""
    findings = [finding for function in CHECKS for finding in function()]
    for finding in findings:
        label = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[finding.level]
        click.echo(f"{label} {finding.check}: {finding.message}")
    problems = [finding for finding in findings if finding.level != "ok"]
    if problems:
        click.echo(f"{len(problems)} thing(s) to fix.", err=True)
        raise SystemExit(1)
    click.echo("All good.")
