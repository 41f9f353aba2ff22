"""Rate limits on a shared Redis: the workers of one site count together, two sites apart."""

import os
import uuid

import pytest

from blog.throttle import Throttle, site_prefix
from tests.conftest import skip_unless_ci

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        skip_unless_ci(f"Redis is not running at {REDIS_URL}")
    return REDIS_URL


def test_sites_on_one_redis_count_apart_and_a_sites_workers_together(redis_url):
    site_key, other_key = uuid.uuid4().hex, uuid.uuid4().hex
    worker = Throttle(redis_url, site_prefix(site_key))
    second_worker = Throttle(redis_url, site_prefix(site_key))
    other_site = Throttle(redis_url, site_prefix(other_key))

    worker.hit("1/minute", "login", "203.0.113.9")

    assert not second_worker.allows("1/minute", "login", "203.0.113.9")
    assert other_site.allows("1/minute", "login", "203.0.113.9")


def test_the_prefix_shows_no_secret():
    prefix = site_prefix("s3cret-key")

    assert prefix.startswith("pressroom-") and "s3cret" not in prefix
    assert prefix == site_prefix("s3cret-key") != site_prefix("another-key")
    assert site_prefix(None) == "pressroom"


def test_the_shared_file_counts_a_moving_window_for_every_worker(tmp_path):
    from blog.throttle import Throttle

    uri = f"pressroom-sqlite://{tmp_path / 'throttle.sqlite3'}"
    one, two = Throttle(uri, "site"), Throttle(uri, "site")

    taken = [worker.hit("3/minute", "login", "10.0.0.1") for worker in (one, two, one, two)]

    assert taken == [True, True, True, False]
    assert not two.allows("3/minute", "login", "10.0.0.1") and one.allows("3/minute", "login", "x")
    assert one.count("3/minute", "login", "10.0.0.1") == 3
    assert 55 <= two.retry_after("3/minute", "login", "10.0.0.1") <= 60
