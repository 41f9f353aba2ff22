"""Background jobs (blog/jobs.py), on the queue the suite runs on: the job table, or RQ on
Redis when REDIS_URL is set. The last tests serve a site with gunicorn and send real email
to aiosmtpd: a comment's answer does not wait for the mail server, and a mail server that
is down delays the notification, never loses it."""

import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from blog import jobs
from blog.database import db
from blog.jobs import JobError, enqueue, task
from blog.models import Job, utcnow
from tests.conftest import run_jobs
from tests.served_site import BIN, PROJECT, free_port, served_site

CALLS: list = []


@task("test.record")
def record_call(value):
    CALLS.append(value)


@task("test.fail")
def always_fail(message):
    raise RuntimeError(message)


@pytest.fixture(autouse=True)
def no_calls_yet():
    CALLS.clear()


def on_redis(app) -> bool:
    return bool(app.config.get("REDIS_URL"))


def test_a_job_runs_once_and_only_if_its_transaction_commits(app):
    with app.app_context():
        enqueue("test.record", value="rolled back")
        db.session.rollback()
        enqueue("test.record", value="kept")
        db.session.commit()
    run_jobs(app)
    run_jobs(app)
    assert CALLS == ["kept"]


def test_a_job_must_name_a_task_and_carry_json(app):
    with app.app_context():
        with pytest.raises(JobError, match="no task named 'test.nothing'"):
            enqueue("test.nothing")
        with pytest.raises(JobError, match="arguments must be JSON"):
            enqueue("test.record", value=object())


def wait_until_due(app, seconds: float = 15) -> None:
    """Let a retry come due: on the job table by moving its time, on RQ by waiting."""
    if on_redis(app):
        time.sleep(seconds)
        return
    with app.app_context():
        db.session.execute(db.update(Job).values(run_after=utcnow() - timedelta(seconds=1)))
        db.session.commit()


@pytest.mark.config(JOBS={"first_retry_seconds": 1, "in_process": True})
def test_a_failing_job_is_retried_with_backoff_then_kept_with_its_error(
    app, client, auth, add_user, monkeypatch
):
    monkeypatch.setattr(jobs, "MAX_ATTEMPTS", 3)
    add_user("alice", role="admin")
    with app.app_context():
        enqueue("test.fail", message="mail server away")
        db.session.commit()
        started = utcnow()
    run_jobs(app)
    if not on_redis(app):  # the job table shows the backoff: 1 s, then 3 s
        with app.app_context():
            job = db.session.scalar(db.select(Job))
            assert (job.state, job.attempts) == ("queued", 1)
            assert timedelta(seconds=0.5) < job.run_after - started < timedelta(seconds=3)
    wait_until_due(app, 2)
    run_jobs(app)
    if not on_redis(app):
        with app.app_context():
            job = db.session.scalar(db.select(Job))
            assert job.attempts == 2
            assert timedelta(seconds=2) < job.run_after - started < timedelta(seconds=6)
    wait_until_due(app, 4)
    run_jobs(app)

    auth.login("alice")
    page = client.get("/admin/jobs").text
    failed = page.split("<h2>Failed</h2>")[1].split("<h2>")[0]
    assert "test.fail" in failed and "RuntimeError: mail server away" in failed
    job_id = re.search(r'action="/admin/jobs/([^/]+)/retry"', failed).group(1)

    assert client.post(f"/admin/jobs/{job_id}/retry").status_code == 302
    page = client.get("/admin/jobs").text
    assert "No failed jobs." in page and "test.fail" in page.split("Waiting and running")[1]
    run_jobs(app)  # fails again: one more try, and a new wait
    assert client.post("/admin/jobs/nonsense/delete").status_code == 404


def test_a_failed_job_can_be_deleted(app, client, auth, add_user, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ATTEMPTS", 1)
    add_user("alice", role="admin")
    with app.app_context():
        enqueue("test.fail", message="for good")
        db.session.commit()
    run_jobs(app)
    auth.login("alice")
    job_id = re.search(r'action="/admin/jobs/([^/]+)/delete"', client.get("/admin/jobs").text)
    assert client.post(f"/admin/jobs/{job_id.group(1)}/delete").status_code == 302
    page = client.get("/admin/jobs").text
    assert "No failed jobs." in page and "Nothing waiting." in page


def test_only_admins_see_the_jobs(app, client, auth, add_user):
    add_user("ed", role="editor")
    assert client.get("/admin/jobs").status_code == 302  # to the login page
    auth.login("ed")
    assert client.get("/admin/jobs").status_code == 403


def test_of_two_workers_exactly_one_runs_each_job(migrated_app, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)  # the job table's claim, even beside Redis
    first, second = migrated_app(), migrated_app()
    with first.app_context():
        for number in range(40):
            enqueue("test.record", value=number)
        db.session.commit()

    def work(app):
        with app.app_context():
            jobs.the_queue().run_due()

    threads = [threading.Thread(target=work, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(CALLS) == list(range(40))
    with first.app_context():
        assert db.session.scalar(db.select(db.func.count(Job.id))) == 0


@pytest.mark.config(REDIS_URL="")  # the job table, even beside Redis
def test_a_job_whose_worker_died_is_taken_up_again(app):
    with app.app_context():
        enqueue("test.record", value="again")
        db.session.commit()
        db.session.execute(
            db.update(Job).values(
                state="running", attempts=1, claimed_at=utcnow() - jobs.STALE_AFTER * 0.5
            )
        )
        db.session.commit()
    run_jobs(app)
    assert CALLS == []  # still running elsewhere, as far as anyone can tell
    with app.app_context():
        db.session.execute(db.update(Job).values(claimed_at=utcnow() - jobs.STALE_AFTER * 2))
        db.session.commit()
    run_jobs(app)
    assert CALLS == ["again"]


# A served site, a real mail server ----------------------------------------------------


class SlowMail:
    """An SMTP server that takes `delay` seconds to accept each message."""

    def __init__(self, port: int, delay: float = 0):
        self.messages: list = []
        self.delay = delay
        self.controller = Controller(self, hostname="127.0.0.1", port=port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 -- aiosmtpd's name
        import asyncio

        await asyncio.sleep(self.delay)
        self.messages.append(envelope)
        return "250 OK"

    def wait_for(self, count: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.1)
        return False


@pytest.fixture
def commented_site(tmp_path):
    """A site with a post and comment notifications to a mail server on `port`; a worker
    runs beside it when the queue is RQ (without Redis, gunicorn's processes work it)."""
    port = free_port()
    config = (
        '[plugins]\nenabled = ["comments"]\n'
        '[plugins.comments]\nnotify_emails = ["owner@example.com"]\nmin_seconds = 0\n'
        f'[mail]\nhost = "127.0.0.1"\nport = {port}\n[jobs]\nfirst_retry_seconds = 1\n'
    )

    def setup(site):
        site.flask("user", "create", "ann", "--email", "ann@example.com", "--role", "admin",
                   stdin="a long enough password\na long enough password\n")  # fmt: skip
        site.flask("post", "create", "--title", "Mail me", "--status", "published",
                   "--author", "ann", stdin="Comment here.")  # fmt: skip

    with served_site(tmp_path, config, 2, "/mail-me/", setup) as site:
        worker = None
        if site.env.get("REDIS_URL"):
            worker = subprocess.Popen([BIN / "flask", "--app", "app", "worker"], cwd=PROJECT,
                                      env=site.env, stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            yield site, port
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=30)


def comment(site, body: str) -> tuple[int, float]:
    page = urllib.request.urlopen(site.base + "/mail-me/", timeout=10).read().decode()
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    post_id = re.search(r'action="/comments/(\d+)/#respond"', page).group(1)
    data = urllib.parse.urlencode(
        {"name": "Reader", "email": "reader@example.com", "body": body, "started": started}
    ).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    begun = time.monotonic()
    try:
        opener.open(site.base + f"/comments/{post_id}/", data, timeout=30)
        status = 200
    except urllib.error.HTTPError as answer:
        status = answer.code
    return status, time.monotonic() - begun


def test_a_comment_is_answered_before_its_email_is_sent(commented_site):
    site, port = commented_site
    mail = SlowMail(port, delay=8)
    mail.controller.start()
    try:
        status, took = comment(site, "Tell the owner, slowly.")
        assert status == 303
        assert took < 6, f"the comment waited {took:.1f} s for the mail server"
        assert mail.messages == []
        assert mail.wait_for(1, 30), "the notification never arrived"
        assert b"Tell the owner, slowly." in mail.messages[0].content
    finally:
        mail.controller.stop()


def test_a_mail_server_that_is_down_delays_the_email_and_never_loses_it(commented_site):
    site, port = commented_site
    status, _ = comment(site, "Sent while the mail server is down.")
    assert status == 303
    time.sleep(3)  # tried and failed at least once: nothing listens on the port yet
    mail = SlowMail(port)
    mail.controller.start()
    try:
        assert mail.wait_for(1, 40), "the notification was lost"
        assert b"Sent while the mail server is down." in mail.messages[0].content
        time.sleep(2)
        assert len(mail.messages) == 1  # sent once, not once per try
    finally:
        mail.controller.stop()
