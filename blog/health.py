"""/healthz: what a load balancer asks before it sends readers to this process.

200 when the database answers, Redis answers (when REDIS_URL is set: the page cache, the
throttle and the job queue live there) and the database holds every migration this code
expects (the core's head and each enabled plugin's); otherwise 503, naming what failed,
so that a host with a broken connection or a half-finished deploy is taken out of the
rotation rather than serving errors. The answer is never stored by any cache.
"""

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blog.database import db
from blog.plugins import enabled_migration_branches

REDIS_TIMEOUT = 2  # seconds: a load balancer asks again soon


def expected_heads(app: Flask) -> tuple[ScriptDirectory, set[str]]:
    """The migration scripts and the revisions this code needs applied (read once: the
    scripts do not change while the process runs)."""
    found = app.extensions.get("pressroom.expected_heads")
    if found is None:
        config = app.extensions["migrate"].migrate.get_config()
        scripts = ScriptDirectory.from_config(config)
        branches = ["core", *enabled_migration_branches(app)]
        heads = {scripts.get_revision(f"{branch}@head").revision for branch in branches}
        found = app.extensions["pressroom.expected_heads"] = (scripts, heads)
    return found


def redis_client(app: Flask, url: str) -> redis.Redis:
    """One client (and connection pool) per process, with short timeouts."""
    client = app.extensions.get("pressroom.health_redis")
    if client is None:
        client = app.extensions["pressroom.health_redis"] = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
    return client


def missing_migrations() -> set[str]:
    """Revisions this code expects that the database has not applied."""
    scripts, heads = expected_heads(current_app)
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    applied = {script.revision for script in scripts.iterate_revisions(current, "base")}
    return heads - applied


def check() -> dict[str, str]:
    """What failed, by part: an empty dict when all is well."""
    problems = {}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        problems["database"] = type(error).__name__
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            redis_client(current_app, redis_url).ping()
        except redis.RedisError as error:
            problems["redis"] = type(error).__name__
    if "database" not in problems:
        try:
            missing = missing_migrations()
        except SQLAlchemyError as error:
            problems["migrations"] = type(error).__name__
        else:
            if missing:
                problems["migrations"] = "not applied: " + ", ".join(sorted(missing))
    return problems


def healthz():
    problems = check()
    body = {"status": "fail" if problems else "ok", "problems": problems}
    response = jsonify(body)
    response.status_code = 503 if problems else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
