"""Background jobs: work that must not hold up a reader's request (email, rebuilds), done
by a worker, retried with backoff when it fails, and never silently dropped.

Every job goes through enqueue(task, **arguments), inside the transaction whose change
calls for it; a task is a function registered with @task("name") (plugins use
blog.plugin_api.task) and called with those arguments, which must be JSON. Two queues
do the work, with the same behaviour:

- With REDIS_URL: RQ. The job is pushed when the transaction commits (a rolled-back
  change sends nothing), and `flask --app app worker` runs an RQ worker, with RQ's
  scheduler for the retries. Several hosts share one queue.
- Without Redis: the job table, in the same transaction as the change, so a job exists
  exactly when its change does. A thread in every serving process runs due jobs (woken
  at once by its own process's jobs, else every POLL_SECONDS), and `flask --app app
  worker` runs the same loop in the foreground. One UPDATE claims a job, so of several
  processes exactly one runs it; a job whose process died while running it is taken up
  again after STALE_AFTER. Jobs wait in the database across restarts.

A task that raises is tried again after first_retry_seconds, then three times as long
each time (capped at MAX_DELAY), MAX_ATTEMPTS times in all; then the job is failed and
kept, with its error, until an admin retries or deletes it on the Jobs page
(blog/admin/jobs.py). Each run is logged on one line: job id, task, outcome.
"""

import json
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from blog.database import db
from blog.logs import job_context
from blog.models import Job, utcnow
from blog.throttle import key_prefix

log = logging.getLogger(__name__)
TASKS: dict[str, Callable] = {}
MAX_ATTEMPTS = 10
MAX_DELAY = 6 * 3600  # seconds: with 10 s first, the tenth try comes about 17 hours on
POLL_SECONDS = 5
STALE_AFTER = timedelta(minutes=30)  # longer than any task may take
JOB_TIMEOUT = 20 * 60  # seconds an RQ job may run
KEEP_FAILED = 90 * 24 * 3600  # seconds RQ keeps a failed job
_PENDING = "pressroom.jobs"  # session.info key: (app, [(task, arguments)]) to push on commit


class JobError(Exception):
    """A job that cannot be queued (unknown task, arguments that are not JSON)."""


def task(name: str):
    """Register a function as the task `name` (e.g. "mail.send", "comments.notify")."""

    def register(function: Callable) -> Callable:
        TASKS[name] = function
        return function

    return register


def enqueue(name: str, **arguments) -> None:
    """Queue the task `name` with these arguments; it runs once this transaction commits."""
    if name not in TASKS:
        raise JobError(f"no task named {name!r}")
    try:
        encoded = json.dumps(arguments, sort_keys=True)
    except TypeError as error:
        raise JobError(f"{name}: arguments must be JSON ({error})") from None
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        if db.session().get_transaction() is None:
            db.session.begin()  # so that a rollback, even before any SQL, drops the job
        _, pending = db.session.info.setdefault(_PENDING, (app, []))
        pending.append((name, encoded))
    else:
        db.session.add(Job(task=name, arguments=encoded, run_after=utcnow()))
        db.session.info.setdefault(_PENDING, (app, []))  # wake this process's worker
    log.info("job queued: %s", name)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    found = session.info.pop(_PENDING, None)
    if found is None:
        return
    app, pending = found
    queue = queues(app)
    for name, encoded in pending:
        queue.push(name, encoded)
    queue.wake()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    # "soft": also when the transaction had not reached the database yet, as one that
    # only queued RQ jobs has not (after_rollback would not fire).
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


def retry_delay(app: Flask, attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure."""
    first = app.config["JOBS"]["first_retry_seconds"]
    return min(first * 3 ** (attempts - 1), MAX_DELAY)


def perform(name: str, encoded: str) -> None:
    """Run one job's task (the worker calls it in an app context); raises what it raises."""
    function = TASKS.get(name)
    if function is None:
        raise JobError(f"no task named {name!r} here (is the plugin that defines it enabled?)")
    function(**json.loads(encoded))


@dataclass
class ShownJob:
    """A job as the Jobs page shows it, whichever queue keeps it."""

    id: str
    task: str
    state: str  # "waiting", "running" or "failed"
    attempts: int
    created_at: datetime | None
    next_try: datetime | None
    error: str


class DatabaseQueue:
    """The job table, worked by a thread in each serving process and by `flask worker`."""

    def __init__(self, app: Flask):
        self.app = app
        self.wanted = threading.Event()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def push(self, name: str, encoded: str) -> None:
        pass  # already in the table, written in the transaction

    def wake(self) -> None:
        self.wanted.set()
        self.start_thread()

    def start_thread(self) -> None:
        if self.thread is not None or not self.app.config["JOBS"]["in_process"]:
            return
        if self.app.config.get("TESTING"):
            return  # tests run jobs themselves: run_due()
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.loop, name="jobs", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """End the thread (tests; a process that exits simply leaves the daemon thread)."""
        self.stopped.set()
        self.wanted.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def loop(self) -> None:
        while not self.stopped.is_set():
            with self.app.app_context():
                try:
                    ran = self.run_due()
                except Exception:  # a database away for a moment: try again later
                    db.session.rollback()
                    log.exception("jobs: could not look for due jobs")
                    ran = 0
            if not ran:
                self.wanted.wait(POLL_SECONDS)
                self.wanted.clear()

    def claim(self) -> Job | None:
        now = utcnow()
        stale = now - STALE_AFTER
        takeable = (Job.state == "queued") | ((Job.state == "running") & (Job.claimed_at < stale))
        candidates = db.session.scalars(
            db.select(Job.id)
            .where(
                ((Job.state == "queued") & (Job.run_after <= now))
                | ((Job.state == "running") & (Job.claimed_at < stale))
            )
            .order_by(Job.run_after, Job.id)
            .limit(5)
        ).all()
        for job_id in candidates:
            claimed = db.session.execute(
                db.update(Job)
                .where(Job.id == job_id, takeable)
                .values(
                    state="running", claimed_at=now, claimed_by=self.name, attempts=Job.attempts + 1
                )
            ).rowcount
            db.session.commit()
            if claimed == 1:
                return db.session.get(Job, job_id)
        return None

    def run_due(self, limit: int = 100) -> int:
        """Run due jobs, one at a time, until none is due (or `limit` ran); how many ran."""
        ran = 0
        while ran < limit:
            job = self.claim()
            if job is None:
                return ran
            self.run(job)
            ran += 1
        return ran

    def run(self, job: Job) -> None:
        job_id, name, encoded, attempts = job.id, job.task, job.arguments, job.attempts
        try:
            with job_context(job_id, name):
                perform(name, encoded)
            db.session.execute(db.delete(Job).where(Job.id == job_id))
            db.session.commit()  # the task's own writes and the job's end, together
            log.info("job %s %s: done (try %s)", job_id, name, attempts)
        except Exception as error:
            db.session.rollback()
            failed = attempts >= MAX_ATTEMPTS
            delay = retry_delay(self.app, attempts)
            db.session.execute(
                db.update(Job)
                .where(Job.id == job_id)
                .values(
                    state="failed" if failed else "queued",
                    claimed_at=None,
                    run_after=utcnow() + timedelta(seconds=delay),
                    last_error=describe(error),
                )  # fmt: skip
            )
            db.session.commit()
            outcome = "failed for good" if failed else f"failed, next try in {delay:.0f} s"
            log.warning("job %s %s: %s (try %s): %s", job_id, name, outcome, attempts, error)

    def work(self, burst: bool = False) -> None:
        """`flask worker`: run jobs until stopped (or, with burst, until none is due)."""
        if burst:
            self.run_due(limit=10**9)
            return
        self.loop()

    def shown(self) -> list[ShownJob]:
        jobs = db.session.scalars(db.select(Job).order_by(Job.id).limit(500)).all()
        states = {"queued": "waiting", "running": "running", "failed": "failed"}
        return [
            ShownJob(
                str(job.id),
                job.task,
                states[job.state],
                job.attempts,
                job.created_at,
                job.run_after if job.state == "queued" else None,
                job.last_error,
            )  # fmt: skip
            for job in jobs
        ]

    def failed_job(self, job_id: str) -> Job | None:
        if not job_id.isdigit() or len(job_id) > 18:
            return None
        return db.session.scalar(db.select(Job).where(Job.id == int(job_id), Job.state == "failed"))

    def retry(self, job_id: str) -> bool:
        job = self.failed_job(job_id)
        if job is None:
            return False
        job.state, job.attempts, job.run_after = "queued", 0, utcnow()
        db.session.info.setdefault(_PENDING, (self.app, []))  # wake this process's worker
        return True

    def delete(self, job_id: str) -> bool:
        job = self.failed_job(job_id)
        if job is None:
            return False
        db.session.delete(job)
        return True

    def workers(self) -> int | None:
        """How many workers are running (None: this queue cannot tell)."""
        return None


class RedisQueue:
    """RQ on REDIS_URL: one queue per site (its key prefix), worked by `flask worker`."""

    def __init__(self, app: Flask):
        import rq

        self.app = app
        self.connection = redis.Redis.from_url(app.config["REDIS_URL"])
        self.queue = rq.Queue(key_prefix(app), connection=self.connection)

    def push(self, name: str, encoded: str) -> None:
        from rq import Retry

        delays = [int(retry_delay(self.app, attempt)) for attempt in range(1, MAX_ATTEMPTS)]
        retry = Retry(max=MAX_ATTEMPTS - 1, interval=delays) if delays else None
        self.queue.enqueue_call(
            run_rq_job, args=(name, encoded), timeout=JOB_TIMEOUT, failure_ttl=KEEP_FAILED,
            result_ttl=0, description=name, retry=retry,
        )  # fmt: skip

    def wake(self) -> None:
        pass  # RQ's workers block on the queue: they hear at once

    def work(self, burst: bool = False) -> None:
        from rq import SimpleWorker

        # SimpleWorker runs each job in this process, in the command's app context, instead
        # of a forked child that would share the parent's database connections.
        worker = SimpleWorker([self.queue], connection=self.connection)
        worker.work(burst=burst, with_scheduler=True, logging_level="INFO")

    def shown(self) -> list[ShownJob]:
        from rq.job import Job as RqJob
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

        found = []
        places = [
            ("waiting", self.queue.get_job_ids()),
            ("waiting", ScheduledJobRegistry(queue=self.queue).get_job_ids()),
            ("running", StartedJobRegistry(queue=self.queue).get_job_ids()),
            ("failed", FailedJobRegistry(queue=self.queue).get_job_ids()),
        ]
        for state, ids in places:
            for job in RqJob.fetch_many(ids[:500], connection=self.connection):
                if job is None:
                    continue
                result = job.latest_result() if state != "running" else None
                lines = (getattr(result, "exc_string", None) or "").strip().splitlines()
                left = job.retries_left
                tries = MAX_ATTEMPTS - left if left is not None else 0
                name = job.args[0] if job.args else job.description
                error = lines[-1] if lines else ""
                found.append(ShownJob(job.id, name, state, tries, job.created_at, None, error))
        return found

    def retry(self, job_id: str) -> bool:
        from rq.exceptions import InvalidJobOperationError, NoSuchJobError
        from rq.registry import FailedJobRegistry

        try:
            FailedJobRegistry(queue=self.queue).requeue(job_id)
        except (NoSuchJobError, InvalidJobOperationError):
            return False
        return True

    def delete(self, job_id: str) -> bool:
        from rq.registry import FailedJobRegistry

        registry = FailedJobRegistry(queue=self.queue)
        if job_id not in registry.get_job_ids():
            return False
        registry.remove(job_id, delete_job=True)
        return True

    def workers(self) -> int | None:
        from rq import Worker

        return Worker.count(queue=self.queue)


def run_rq_job(name: str, encoded: str) -> None:
    """What an RQ worker calls: the task, then commit its writes (or roll them back)."""
    from rq import get_current_job

    current = get_current_job()
    try:
        with job_context(current.id if current else "-", name):
            perform(name, encoded)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


def describe(error: BaseException) -> str:
    """The error as the Jobs page shows it: its type, message and where it was raised."""
    last = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    where = f" (at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(error).__name__}: {error}{where}"[:2000]


def queues(app: Flask):
    return app.extensions["pressroom.jobs"]


def the_queue():
    return queues(current_app)


def init_app(app: Flask) -> None:
    app.extensions["pressroom.jobs"] = (
        RedisQueue(app) if app.config.get("REDIS_URL") else DatabaseQueue(app)
    )

    @app.before_request
    def start_worker_thread():
        queue = app.extensions["pressroom.jobs"]
        if isinstance(queue, DatabaseQueue):
            queue.start_thread()
