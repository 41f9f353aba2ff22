"""Scheduled posts go out by themselves: no cron job to set up.

Three things call publish_due(), and any of them is enough: a check before requests
(at most once every CHECK_SECONDS per process), a background timer thread in every
serving process, and `flask --app app publish-due` for those who prefer cron. Each
post goes out through blog/editing.py's publish_scheduled, which lets exactly one of
several processes trying at once publish it, and fires the same hooks as "Publish" in
the editor (post_saved), in the same transaction.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app

from blog.database import db
from blog.editing import publish_scheduled
from blog.models import Post, utcnow

log = logging.getLogger(__name__)
CHECK_SECONDS = 30  # how late a scheduled post may go out, at worst, on a busy site
# A scheduled post this late has not gone out by itself: the admin says so.
OVERDUE_AFTER = timedelta(minutes=2)


@dataclass
class Failure:
    post_id: int
    title: str
    reason: str


def publish_due(now: datetime | None = None) -> tuple[list[Post], list[Failure]]:
    """Publish every scheduled post whose time has come; (published, failed)."""
    now = now or utcnow()
    due = db.session.scalars(
        db.select(Post.id)
        .where(Post.status == "scheduled", Post.published_at <= now)
        .order_by(Post.published_at, Post.id)
    ).all()
    published, failed = [], []
    for post_id in due:
        try:
            post = publish_scheduled(post_id)
        except Exception as error:  # one broken plugin must not hold back the other posts
            title = db.session.scalar(db.select(Post.title).where(Post.id == post_id)) or ""
            log.exception("Scheduled post %s could not be published", post_id)
            failed.append(Failure(post_id, title, f"{type(error).__name__}: {error}"))
            continue
        if post is not None:  # None: another process got there first
            log.info("Published scheduled post %s (%s)", post.id, post.slug)
            published.append(post)
    return published, failed


def overdue_posts(now: datetime | None = None) -> list[Post]:
    """Scheduled posts well past their time: something stopped them going out."""
    limit = (now or utcnow()) - OVERDUE_AFTER
    return db.session.scalars(
        db.select(Post)
        .where(Post.status == "scheduled", Post.published_at <= limit)
        .order_by(Post.published_at)
    ).all()


class Scheduler:
    """Runs publish_due() before requests and on a timer, in this process."""

    def __init__(self, app: Flask):
        self.app = app
        self.next_check = datetime.min
        self.lock = threading.Lock()
        self.timer_lock = threading.Lock()
        self.timer: threading.Thread | None = None
        self.stopped = threading.Event()

    def check(self) -> None:
        """Publish what is due, if this process has not looked in the last CHECK_SECONDS."""
        now = utcnow()
        if now < self.next_check or not self.lock.acquire(blocking=False):
            return
        try:
            self.next_check = now + timedelta(seconds=CHECK_SECONDS)
            publish_due(now)
        except Exception:  # e.g. a database not yet upgraded: the page itself must still answer
            db.session.rollback()
            log.exception("Publishing scheduled posts failed")
        finally:
            self.lock.release()

    def due_soon(self, when: datetime) -> None:
        """A post was just scheduled for `when`: look then, not a whole interval later."""
        self.next_check = min(self.next_check, when)

    def start_timer(self) -> None:
        """One daemon thread per serving process; quiet sites publish on time too."""
        if self.timer is not None or self.app.config.get("TESTING"):
            return
        with self.timer_lock:  # two first requests at once start one thread
            if self.timer is None:
                self.timer = threading.Thread(
                    target=self.run_timer, name="publish-due", daemon=True
                )
                self.timer.start()

    def stop(self) -> None:
        """End the timer thread (tests; a process that exits simply leaves the daemon thread)."""
        self.stopped.set()
        if self.timer is not None:
            self.timer.join(timeout=10)

    def run_timer(self) -> None:
        while not self.stopped.wait(CHECK_SECONDS):
            with self.app.app_context():
                self.next_check = datetime.min
                self.check()


def scheduler() -> Scheduler:
    return current_app.extensions["pressroom_scheduler"]


def init_app(app: Flask) -> None:
    app.extensions["pressroom_scheduler"] = schedule = Scheduler(app)

    @app.before_request
    def publish_due_posts():
        schedule.start_timer()
        schedule.check()
