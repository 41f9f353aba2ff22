"""Never a stale page after a write is acknowledged: gunicorn workers sharing the page cache.

Four gunicorn workers serve one site (a SQLite file and the instance's page store, or
PostgreSQL and Redis in CI). An author edits a post again and again while readers keep
every worker busy rendering and storing the same pages; after each save is answered,
fresh connections (so, whichever worker takes them) must all show the new words.
"""

import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from tests.served_site import served_site

WORKERS, SAVES, CHECKS = 4, 12, 8
PAGES = ("/live-post/", "/", "/feed/", "/category/live/", "/sitemap.xml")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 after a save is the acknowledgement we wait for


class Author:
    """A browser with a session: the form's CSRF token is read from each page."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), NoRedirect
        )

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def send(self, path: str, form_page: str, fields: dict) -> int:
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', self.get(form_page))
        data = urllib.parse.urlencode({"csrf_token": token.group(1), **fields}, doseq=True)
        request = urllib.request.Request(self.base + path, data.encode(),
                                         headers={"Origin": self.base})  # fmt: skip
        try:
            return self.opener.open(request, timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code


def fetch(base: str, path: str) -> tuple[str, str | None]:
    with urllib.request.urlopen(base + path, timeout=30) as response:
        return response.read().decode(), response.headers.get("X-Page-Cache")


def live_post(site):
    site.flask("user", "create", "owner", "--email", "owner@example.com", "--role", "admin",
               "--password", "long enough")  # fmt: skip
    site.flask("post", "create", "--title", "Live post", "--category", "Live", "--status",
               "published", stdin="Words that change.")  # fmt: skip


@pytest.fixture
def site(tmp_path):
    config = (
        '[site]\ntitle = "Old title"\n'
        '[plugins]\nenabled = ["categories", "related_posts", "comments"]\n'
    )
    with served_site(tmp_path, config, WORKERS, "/live-post/", setup=live_post) as served:
        yield served


def keep_readers_busy(base: str, stop: threading.Event, errors: list) -> None:
    while not stop.is_set():
        for path in PAGES:
            try:
                fetch(base, path)
            except Exception as error:  # reported by the test
                errors.append(f"{path}: {error!r}")


def test_no_worker_serves_a_stale_page_after_a_save(site):
    author = Author(site.base)
    assert author.send("/login", "/login", {"username": "owner", "password": "long enough"}) == 302
    edit = author.get("/admin/")
    post_id = re.search(r"/admin/posts/(\d+)/edit", edit).group(1)
    category = re.search(r'name="categories" type="checkbox" value="(\d+)"',
                         author.get(f"/admin/posts/{post_id}/edit")).group(1)  # fmt: skip
    stop, errors, stale, states = threading.Event(), [], [], set()
    readers = [
        threading.Thread(target=keep_readers_busy, args=(site.base, stop, errors))
        for _ in range(WORKERS * 2)
    ]
    for reader in readers:
        reader.start()
    try:
        for version in range(1, SAVES + 1):
            form = author.get(f"/admin/posts/{post_id}/edit")
            fields = {
                "title": f"Version {version}", "body": "Words that change.", "slug": "live-post",
                "categories": category, "publish": "Publish",
                "version": re.search(r'name="version" type="hidden" value="(\d+)"', form).group(1),
            }  # fmt: skip
            answer = author.send(f"/admin/posts/{post_id}/edit", f"/admin/posts/{post_id}/edit",
                                 fields)  # fmt: skip
            assert answer == 302, f"save {version}: {answer}"
            for _ in range(CHECKS):
                for path in PAGES[:4]:
                    page, state = fetch(site.base, path)
                    states.add(state)
                    if f"Version {version}<" not in page and f"Version {version}]" not in page:
                        stale.append((version, path, state))
            time.sleep(0.05)  # let the readers store pages of this version
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)

    assert errors == []
    assert stale == []
    assert "hit" in states  # the cache was serving all along


def test_settings_reach_every_worker_at_once(site):
    author = Author(site.base)
    author.send("/login", "/login", {"username": "owner", "password": "long enough"})
    for _ in range(WORKERS * 4):
        fetch(site.base, "/live-post/")  # stored, in every worker's view

    answer = author.send("/admin/settings", "/admin/settings", {
        "title": "New title", "tagline": "", "url": "http://127.0.0.1", "posts_per_page": "10",
        "timezone": "UTC", "language": "en",
    })  # fmt: skip
    pages = [fetch(site.base, "/live-post/")[0] for _ in range(WORKERS * 4)]

    assert answer == 302
    assert all("New title" in page and "Old title" not in page for page in pages)


def test_an_owner_editing_config_toml_by_hand_refreshes_every_page(site):
    for _ in range(WORKERS * 4):
        fetch(site.base, "/")
    config = site.instance / "config.toml"

    config.write_text(config.read_text().replace("Old title", "Hand-edited title"))
    pages = [fetch(site.base, "/")[0] for _ in range(WORKERS * 4)]

    assert all("Hand-edited title" in page for page in pages)


def test_a_new_site_stylesheet_reaches_stored_pages(site):
    for _ in range(WORKERS * 4):
        fetch(site.base, "/")
    (site.instance / "static").mkdir(exist_ok=True)

    (site.instance / "static" / "site.css").write_text("body { color: #111; }")
    pages = [fetch(site.base, "/")[0] for _ in range(WORKERS * 4)]

    assert all("/site/site.css?v=" in page for page in pages)
