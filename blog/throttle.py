"""Rate limits (the `limits` library): in memory, or in Redis when REDIS_URL is set so that
every worker and host of a site counts together. Plugins reach it through blog.plugin_api."""

import hashlib
import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse, storage, strategies

# Several apps in one process (tests) or sites on one Redis keep apart by prefix.
DEFAULT_PREFIX = "pressroom"


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

    def retry_after(self, rule: str, *identifiers: str) -> int:
        """Seconds until `rule` has room again (at least 1)."""
        item: RateLimitItem = parse(rule)
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))


def init_app(app: Flask) -> None:
    uri = app.config.get("REDIS_URL") or "memory://"
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
