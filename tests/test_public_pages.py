"""Anonymous pages are the same for every reader: no cookie set, no visitor's own bytes,
so that any cache may keep them (the comment form carries no session token)."""

import re
import time

import pytest

from blog import create_app
from blog.caching import PUBLIC_PAGES, site_changed_at
from blog.database import db
from blog.editing import PostData, PostError, save_post
from blog.models import User, utcnow

pytestmark = pytest.mark.plugins(
    "categories", "related_posts", "comments", comments={"min_seconds": 0}
)
# The comment form's signed time: it says when the page was made, not for whom.
FORM_TIME = re.compile(r'name="started" type="hidden" value="[^"]+"')
NOW = utcnow()
PATHS = [
    "/", "/?page=2", "/rivers-3/", "/category/news/", "/tag/water/", "/author/alice/",
    f"/{NOW.year}/", f"/{NOW.year}/{NOW.month:02d}/", "/archive/", "/search?q=rivers",
    "/feed/", "/category/news/feed/", "/author/alice/feed/", "/comments/rivers-3/feed/",
    "/sitemap.xml", "/robots.txt", "/no-such-page/",
]  # fmt: skip


@pytest.fixture
def site(app, add_post):
    app.config["SITE"]["posts_per_page"] = 2
    for number in range(5):
        add_post(f"Rivers {number}", body="Boats on rivers.", categories=["News"], tags=["water"])
    return app


@pytest.mark.parametrize("path", PATHS)
def test_an_anonymous_page_sets_no_cookie_and_is_the_same_for_every_reader(site, path):
    one_reader, another = site.test_client(), site.test_client()

    first, second = one_reader.get(path), another.get(path)

    assert first.status_code in (200, 404)
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    assert FORM_TIME.sub("", first.text) == FORM_TIME.sub("", second.text)


def test_a_logged_in_reader_gets_a_form_with_the_session_token(site, auth, add_user):
    add_user("staff", role="editor")
    auth.login("staff")

    page = auth.client.get("/rivers-3/").text

    assert 'name="csrf_token"' in page


# Conditional requests -------------------------------------------------------------------


@pytest.mark.parametrize("path", [path for path in PATHS if path != "/no-such-page/"])
def test_a_public_page_has_validators_and_a_reader_who_has_it_gets_304(site, path):
    client = site.test_client()

    first = client.get(path)
    by_tag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})

    assert first.status_code == 200
    assert first.headers["Cache-Control"] == PUBLIC_PAGES
    assert "Cookie" in first.headers["Vary"]
    assert by_tag.status_code == 304 and by_tag.data == b""
    assert by_date.status_code == 304


def test_after_a_change_readers_get_the_new_page_not_a_304(site, add_post, monkeypatch):
    client = site.test_client()
    home = client.get("/")
    tag, date = home.headers["ETag"], home.headers["Last-Modified"]
    later = time.time() + 2  # Last-Modified counts whole seconds
    monkeypatch.setattr("blog.caching.time.time", lambda: later)

    add_post("Fresh news", categories=["News"])

    by_tag = client.get("/", headers={"If-None-Match": tag})
    by_date = client.get("/", headers={"If-Modified-Since": date})
    assert by_tag.status_code == 200 and "Fresh news" in by_tag.text
    assert by_date.status_code == 200 and "Fresh news" in by_date.text


def test_a_change_that_is_rolled_back_leaves_the_date_alone(site, add_user):
    with site.app_context():
        before = site_changed_at()
        author = db.session.get(User, add_user("bob"))
        with pytest.raises(PostError):
            save_post(PostData(title="Taken", slug="rivers-1"), author)

        assert site_changed_at() == before


def test_every_worker_of_the_site_sees_the_same_last_change(site, add_post):
    # Another process serving the same site: same instance folder, database and Redis.
    other_worker = create_app(dict(site.config))
    with other_worker.app_context():
        seen_before = site_changed_at()

    add_post("Written through the first worker")

    with other_worker.app_context():
        assert site_changed_at() > seen_before
        assert site_changed_at() == site_changed_at(site)


def test_pages_for_a_logged_in_user_are_private(site, auth, add_user):
    add_user("staff", role="editor")
    auth.login("staff")

    page = auth.client.get("/rivers-3/")

    assert page.headers["Cache-Control"] == "private, no-cache"


# Static files ---------------------------------------------------------------------------


def test_static_files_have_fingerprinted_addresses_kept_for_a_year(site):
    client = site.test_client()
    page = client.get("/rivers-3/").text
    addresses = re.findall(r'(?:href|src)="(/(?:static|comments/static)/[^"]+)"', page)

    assert addresses and all("?v=" in address for address in addresses)
    for address in addresses:
        kept = client.get(address)
        stale = client.get(address.split("?v=")[0] + "?v=0123456789ab")
        assert kept.status_code == 200
        assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert stale.headers["Cache-Control"] == "public, no-cache"
        kept.close()
        stale.close()


@pytest.mark.parametrize("path", ["/archive", "/feed", "/", "/login"])
def test_a_forged_host_is_refused_before_any_address_is_built(client, path):
    """Werkzeug's added slash (/archive → /archive/) is an absolute address built from
    the Host header: a forged one would send readers, and shared caches, elsewhere."""
    forged = client.get(path, headers={"Host": "evil.example"})

    assert forged.status_code == 400 and "evil.example" not in forged.headers.get("Location", "")


@pytest.mark.config(
    SITE={"title": "My Blog", "url": "https://blog.test", "hosts": ["www.blog.test"]}
)
def test_the_site_answers_to_its_own_names_and_loopback(client):
    for host in ("blog.test", "BLOG.test:443", "www.blog.test", "localhost:5000", "127.0.0.1",
                 "[::1]:8000"):  # fmt: skip
        answer = client.get("/archive", headers={"Host": host})
        assert answer.status_code == 308, host
        assert answer.headers["Location"].endswith("/archive/"), host
