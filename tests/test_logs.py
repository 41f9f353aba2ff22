"""The log says which request, user or job each line belongs to (blog/logs.py)."""

import logging
import re

import pytest

from blog.database import db
from blog.jobs import enqueue, task
from blog.logs import ContextFilter
from tests.conftest import run_jobs

job_log = logging.getLogger("tests.jobs")


@task("test.say")
def say(words):
    job_log.warning("saying %s", words)


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(ContextFilter())
    return caplog


def test_each_request_is_one_line_with_its_id_and_user(client, auth, add_user, lines):
    add_user("alice")
    auth.login("alice")
    lines.clear()
    answer = client.get("/admin/?x=1", headers={"X-Request-ID": "abc-123"})
    [line] = [r for r in lines.records if r.name == "pressroom.request"]
    assert re.fullmatch(r"GET /admin/\?x=1 200 \d+ ms", line.getMessage())
    assert line.context == "request=abc-123 user=alice"
    assert answer.headers["X-Request-ID"] == "abc-123"


def test_a_request_without_a_usable_id_gets_one(client, lines):
    answer = client.get("/", headers={"X-Request-ID": "no spaces; or <this>"})
    made = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    [line] = [r for r in lines.records if r.name == "pressroom.request"]
    assert line.context == f"request={made} user=-"


def test_a_jobs_lines_say_which_job(app, lines):
    with app.app_context():
        enqueue("test.say", words="hello")
        db.session.commit()
    run_jobs(app)
    [line] = [r for r in lines.records if r.name == "tests.jobs"]
    assert line.getMessage() == "saying hello"
    assert re.fullmatch(r"job=\S+ task=test\.say", line.context)
