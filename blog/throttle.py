"""Rate limits (the `limits` library), counted where every worker sees them: in Redis when
REDIS_URL is set, so that every worker and host of a site counts together; otherwise in
instance/throttle.sqlite3, which every worker on the machine shares (counted in each
worker's memory, four workers let 40 wrong passwords through where 10 were promised).
Plugins reach it through blog.plugin_api."""

import hashlib
import math
import sqlite3
import threading
import time
from pathlib import Path

from flask import Flask, current_app
from limits import RateLimitItem, parse, storage, strategies
from limits.storage.base import MovingWindowSupport

# Several apps in one process (tests) or sites on one Redis keep apart by prefix.
DEFAULT_PREFIX = "pressroom"


class SharedFileStorage(storage.Storage, MovingWindowSupport):
    """The moving window of each key in a SQLite file (WAL): one row an event. Counting
    and adding are one `BEGIN IMMEDIATE` transaction, so two workers never both take the
    last place. Rows older than a day (past every rule's window) are dropped as it goes."""

    STORAGE_SCHEME = ["pressroom-sqlite"]
    KEEP = 24 * 3600

    def __init__(self, uri: str, **options):
        super().__init__(uri, **options)
        self.path = uri.removeprefix("pressroom-sqlite://")
        self.local = threading.local()  # a connection per thread, as sqlite3 wants

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def connection(self) -> sqlite3.Connection:
        db = getattr(self.local, "db", None)
        if db is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = self.local.db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS hits_key_at ON hits (key, at)")
            db.execute("CREATE INDEX IF NOT EXISTS hits_at ON hits (at)")
        return db

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now, db = time.time(), self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM hits WHERE at <= ?", (now - self.KEEP,))
            (count,) = db.execute(
                "SELECT count(*) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            taken = count + amount <= limit
            if taken:
                db.executemany("INSERT INTO hits VALUES (?, ?)", [(key, now)] * amount)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return taken

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, count = (
            self.connection()
            .execute(
                "SELECT min(at), count(*) FROM hits WHERE key = ? AND at > ?", (key, now - expiry)
            )
            .fetchone()
        )
        return (oldest if count else now), count

    def check(self) -> bool:
        return self.connection().execute("SELECT 1").fetchone() == (1,)

    def reset(self) -> int | None:
        return self.connection().execute("DELETE FROM hits").rowcount

    def clear(self, key: str) -> None:
        self.connection().execute("DELETE FROM hits WHERE key = ?", (key,))

    # The fixed-window counters: the moving window (Throttle below) never asks for them.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("the shared file keeps moving windows only")

    def get(self, key: str) -> int:
        raise NotImplementedError("the shared file keeps moving windows only")

    def get_expiry(self, key: str) -> float:
        raise NotImplementedError("the shared file keeps moving windows only")


class Throttle:
    """Count events per rule and identifiers; say whether one more is allowed."""

    def __init__(self, storage_uri: str, key_prefix: str):
        options = {"key_prefix": key_prefix} if storage_uri.startswith("redis") else {}
        self.storage = storage.storage_from_string(storage_uri, **options)
        # A moving window counts exactly the last N minutes, so "try again in" is true.
        self.limiter = strategies.MovingWindowRateLimiter(self.storage)

    def allows(self, rule: str, *identifiers: str) -> bool:
        """True while `rule` (e.g. "5/minute") has room left for these identifiers."""
        return self.limiter.test(parse(rule), *identifiers)

    def hit(self, rule: str, *identifiers: str) -> bool:
        """Count one event; False if it went over the limit."""
        return self.limiter.hit(parse(rule), *identifiers)

    def count(self, rule: str, *identifiers: str) -> int:
        """How many events `rule`'s window holds now for these identifiers."""
        item: RateLimitItem = parse(rule)
        return item.amount - self.limiter.get_window_stats(item, *identifiers).remaining

    def retry_after(self, rule: str, *identifiers: str) -> int:
        """Seconds until `rule` has room again (at least 1)."""
        item: RateLimitItem = parse(rule)
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))


def init_app(app: Flask) -> None:
    shared_file = Path(app.instance_path, "throttle.sqlite3")
    uri = app.config.get("REDIS_URL") or f"pressroom-sqlite://{shared_file}"
    app.extensions["pressroom.throttle"] = Throttle(uri, key_prefix(app))


def key_prefix(app: Flask) -> str:
    """The prefix of every Redis key of this site (rate limits, the last change, pages)."""
    return app.config.get("THROTTLE_KEY_PREFIX") or site_prefix(app.config.get("SECRET_KEY"))


def site_prefix(secret_key: str | None) -> str:
    """Keys of one site, whichever worker or host counts: sites sharing a Redis differ by
    their secret keys (random for each new site), of which only a hash is shown."""
    if not secret_key:
        return DEFAULT_PREFIX
    digest = hashlib.sha256(f"pressroom-throttle:{secret_key}".encode()).hexdigest()
    return f"{DEFAULT_PREFIX}-{digest[:16]}"


def throttle() -> Throttle:
    return current_app.extensions["pressroom.throttle"]
