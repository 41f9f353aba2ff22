"""Nothing lost under load: 50 clients post 500 comments at once to 4 gunicorn workers.

Runs on the database the suite runs on: a SQLite file (WAL, busy timeout) by default,
PostgreSQL when DATABASE_URL names it. Every comment must be stored exactly once and no
answer may be a 5xx.
"""

import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import create_engine, text

from tests.served_site import served_site

CLIENTS, COMMENTS_EACH, WORKERS = 50, 10, 4


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 after a comment is the answer we count


def one_post(site):
    site.flask("user", "create", "owner", "--email", "owner@example.com", "--role", "admin",
               "--password", "long enough")  # fmt: skip
    site.flask("post", "create", "--title", "Busy post", "--status", "published", stdin="Talk.")


@pytest.fixture
def site(tmp_path):
    """A migrated instance with one published post, served by gunicorn; yields (url, db url)."""
    config = (
        '[plugins]\nenabled = ["comments"]\n'
        # Every client shares 127.0.0.1, so the per-address limit is lifted for this run.
        '[plugins.comments]\nmoderation = "none"\nrate_limit = "100000/minute"\n'
    )
    with served_site(tmp_path, config, WORKERS, "/busy-post/", setup=one_post) as served:
        yield served.base, served.database_url


def reader(base: str, number: int, statuses: list, errors: list) -> None:
    """One browser: load the post, wait like a person, send ten comments."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect
    )
    try:
        page = opener.open(base + "/busy-post/", timeout=30).read().decode()
        fields = dict(
            re.findall(r'name="(csrf_token|started)" type="hidden" value="([^"]+)"', page)
        )
        post_id = re.search(r'action="/comments/(\d+)/', page).group(1)
        time.sleep(3.2)  # the default minimum time between loading the form and sending it
        for comment in range(COMMENTS_EACH):
            data = urllib.parse.urlencode({
                **fields, "name": f"Reader {number}", "email": f"reader{number}@example.com",
                "body": f"Comment {comment} from reader {number}.",
            }).encode()  # fmt: skip
            try:
                response = opener.open(f"{base}/comments/{post_id}/", data, timeout=60)
                statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
    except Exception as error:  # reported by the test, naming the reader
        errors.append(f"reader {number}: {error!r}")


def test_500_concurrent_comments_are_all_stored_exactly_once(site):
    base, database_url = site
    statuses, errors = [], []
    readers = [
        threading.Thread(target=reader, args=(base, number, statuses, errors))
        for number in range(CLIENTS)
    ]

    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join(timeout=300)

    engine = create_engine(database_url)
    with engine.connect() as connection:
        bodies = connection.execute(text("SELECT body FROM comments_comment")).scalars().all()
    engine.dispose()
    expected = {
        f"Comment {comment} from reader {number}."
        for number in range(CLIENTS)
        for comment in range(COMMENTS_EACH)
    }
    assert errors == []
    assert sorted(set(statuses)) == [303], f"answers: {sorted(statuses)[-5:]}"
    assert len(statuses) == CLIENTS * COMMENTS_EACH
    assert len(bodies) == len(expected) and set(bodies) == expected
