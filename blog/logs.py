"""The site's log: one line per event, each saying which request, user or job it belongs to.

Every request gets an id: the X-Request-ID the proxy sent (nginx's $request_id, see
deploy/nginx/pressroom.conf, so that its access log and ours meet), else a new one; the
answer carries it back. Each request the app answers is logged on one line when it ends
(method, path, status, time), and every other line logged meanwhile (a failed login, a
job queued, an error with its traceback) carries the same `request=<id> user=<name>`.
A background job's lines carry `job=<id> task=<name>` (blog/jobs.py sets it). Pages the
page cache answers by itself are in the proxy's access log only.

Lines go to standard error (journald under systemd, gunicorn's console by hand), unless
the running program set up logging itself.
"""

import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, g, has_request_context, request

log = logging.getLogger("pressroom.request")
FORMAT = "%(asctime)s %(levelname)s %(context)s %(name)s: %(message)s"
# What a proxy's request id may look like (nginx's is 32 hex digits).
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_job: ContextVar[str] = ContextVar("pressroom_job", default="")


@contextmanager
def job_context(job_id, task: str):
    """Lines logged inside say which job they belong to."""
    token = _job.set(f"job={job_id} task={task}")
    try:
        yield
    finally:
        _job.reset(token)


def context() -> str:
    if has_request_context():
        user = getattr(g, "_login_user", None)  # only if the request loaded it anyway
        name = getattr(user, "username", None) or "-"
        return f"request={getattr(g, 'request_id', '-')} user={name}"
    return _job.get() or "-"


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.context = context()
        return True


def start_request() -> None:
    sent = request.headers.get("X-Request-ID", "")
    g.request_id = sent if REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def end_request(response):
    response.headers.setdefault("X-Request-ID", getattr(g, "request_id", ""))
    started = getattr(g, "request_started", None)
    took = (time.perf_counter() - started) * 1000 if started else 0
    log.info("%s %s %s %.0f ms", request.method, request.full_path.rstrip("?"),
             response.status_code, took)  # fmt: skip
    return response


def configure() -> None:
    """A handler on the root logger, unless the program made its own; every handler of
    the root logger gets the context."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    for handler in root.handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(end_request)
    if not app.config.get("TESTING"):
        configure()
