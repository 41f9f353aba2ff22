"""The page cache (blog/page_cache.py): hits run nothing, and no write leaves a stale page.

The invalidation tests write through one app and read through another, two "workers"
sharing the database (a SQLite file, or PostgreSQL when DATABASE_URL names it) and the
store (the instance folder's SQLite file, or Redis when REDIS_URL is set).
"""

import re
import threading
import time
from datetime import timedelta
from io import BytesIO

import pytest
from itsdangerous import TimestampSigner, URLSafeSerializer
from sqlalchemy import event

from blog.database import db
from blog.editing import PostData, categories_from_names, save_post
from blog.models import Category, Post, User, utcnow
from blog.page_cache import LocalStore, StoredPage
from blog.scheduling import publish_due
from plugins.comments.models import Comment
from tests.conftest import DATABASE_URL, ON_POSTGRES, TEST_PASSWORD_HASH

ALL = ("categories", "related_posts", "comments")
SETTINGS = {"comments": {"min_seconds": 0, "moderation": "none"}}


def cache_state(response) -> str | None:
    return response.headers.get("X-Page-Cache")


# Hits ---------------------------------------------------------------------------------


@pytest.fixture
def site(make_app):
    app = make_app(ALL, **SETTINGS)
    with app.app_context():
        author = User(username="alice", email="alice@example.com", role="admin")
        author.password_hash = TEST_PASSWORD_HASH
        db.session.add(author)
        db.session.commit()
        for number in range(3):
            news = categories_from_names(["News"], create=True)
            data = PostData(title=f"Post {number}", body=f"Words about rivers {number}.",
                            status="published", categories=news)  # fmt: skip
            save_post(data, author=author)
    return app


def test_a_hit_runs_no_view_and_no_sql(site):
    client = site.test_client()
    views, statements = [], []
    detail = site.view_functions["posts.detail"]
    site.view_functions["posts.detail"] = lambda **kw: views.append(kw) or detail(**kw)
    with site.app_context():
        engine = db.engine

    def count(*args):
        statements.append(args[2])

    first = client.get("/post-1/")
    event.listen(engine, "before_cursor_execute", count)
    try:
        second = client.get("/post-1/")
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert cache_state(first) == "miss" and cache_state(second) == "hit"
    assert statements == [] and len(views) == 1
    assert second.data.replace(b"hit", b"") and second.headers["ETag"] == first.headers["ETag"]
    assert "Set-Cookie" not in second.headers and "Set-Cookie" not in first.headers
    assert second.headers["Cache-Control"] == first.headers["Cache-Control"]


def test_a_hit_answers_304_to_a_reader_who_has_the_page(site):
    client = site.test_client()
    client.get("/")
    etag = client.get("/").headers["ETag"]

    again = client.get("/", headers={"If-None-Match": etag})
    since = client.get("/", headers={"If-Modified-Since": again.headers["Last-Modified"]})
    head = client.head("/")

    assert again.status_code == 304 and cache_state(again) == "hit" and again.data == b""
    assert again.headers["ETag"] == etag and "Content-Security-Policy" not in again.headers
    assert since.status_code == 304
    assert head.status_code == 200 and cache_state(head) == "hit" and head.data == b""
    assert int(head.headers["Content-Length"]) == len(client.get("/").data)


def form_started(html: str) -> str:
    return re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)


def site_with_one_talk(make_app, **comments):
    """An app with all plugins and one published post, /talk/."""
    app = make_app(ALL, comments=comments)
    with app.app_context():
        author = User(username="alice", email="alice@example.com", role="admin")
        db.session.add(author)
        save_post(PostData(title="Talk", body="Hi.", status="published"), author=author)
    return app


def test_each_hit_gets_its_own_form_time_and_the_minimum_time_still_holds(make_app):
    app = site_with_one_talk(make_app, min_seconds=30)
    client = app.test_client()
    client.get("/talk/")
    time.sleep(1.1)  # signed times count whole seconds
    hit = client.get("/talk/")

    started = form_started(hit.text)
    value, stamp = TimestampSigner("test", salt="comments-form-started").unsign(
        started, return_timestamp=True
    )
    post_id = re.search(r'action="/comments/(\d+)/', hit.text).group(1)
    refused = client.post(
        f"/comments/{post_id}/",
        data={"name": "Bot", "email": "bot@example.com", "body": "Fast!", "started": started},
    )

    assert cache_state(hit) == "hit" and b"\0" not in hit.data
    assert abs(time.time() - stamp.timestamp()) < 1.5  # made for this view, not the stored one
    assert value.decode() == post_id
    assert refused.status_code == 422 and "faster than a person types" in refused.text


def test_a_cookie_the_page_read_makes_the_page_the_readers_own(site):
    client = site.test_client()
    client.get("/post-1/")
    client.set_cookie("_ga", "GA1.2.3")  # someone else's cookie: still the same page
    shared = client.get("/post-1/")
    client.set_cookie("comment_author", "not-even-valid")  # read by the comment form
    own = client.get("/post-1/")

    assert cache_state(shared) == "hit"
    assert cache_state(own) is None


def test_a_page_made_for_a_reader_is_never_stored_for_others(site):
    remembered = URLSafeSerializer("test", salt="comments-author").dumps(
        {"name": "Ada Private", "email": "ada@example.com", "website": ""}
    )
    reader, stranger = site.test_client(), site.test_client()
    reader.set_cookie("comment_author", remembered)

    own = reader.get("/post-2/")
    other = stranger.get("/post-2/")

    assert "Ada Private" in own.text and cache_state(own) is None
    assert own.headers["Cache-Control"] == "private, no-cache"  # nor by a shared cache
    assert "Ada Private" not in other.text and cache_state(other) == "miss"


def test_logged_in_users_get_their_own_pages(site):
    client = site.test_client()
    client.get("/post-1/")
    client.post("/login", data={"username": "alice", "password": "password123"})

    page = client.get("/post-1/")

    assert cache_state(page) is None and ">Edit</a>" in page.text
    assert page.headers["Cache-Control"] == "private, no-cache"


def test_trackers_share_the_page_and_unknown_arguments_are_not_stored(site):
    client = site.test_client()
    client.get("/")

    tracked = client.get("/?utm_source=mastodon&fbclid=x")
    unknown = [client.get("/?nonsense=1") for _ in range(2)]

    assert cache_state(tracked) == "hit"
    assert [cache_state(r) for r in unknown] == [None, None]


def test_searches_are_not_stored(site):
    client = site.test_client()
    answers = [client.get("/search?q=rivers") for _ in range(2)]

    assert [cache_state(r) for r in answers] == [None, None]
    assert all("Post 1" in r.text for r in answers)


def test_a_page_that_changes_at_a_known_time_is_kept_until_then(make_app):
    app = site_with_one_talk(make_app, close_after_days=1)
    with app.app_context():
        # Published a day ago less two seconds: comments close in two seconds.
        db.session.scalar(db.select(Post)).published_at = utcnow() - timedelta(days=1, seconds=-2)
        db.session.commit()
    client = app.test_client()
    app.extensions["pressroom.page_cache"].clear()

    open_ = client.get("/talk/")
    time.sleep(2.5)
    closed = client.get("/talk/")

    assert "Leave a Comment" in open_.text or "comment-form" in open_.text
    assert cache_state(closed) == "miss"
    assert "Comments close 1 days after a post is published." in closed.text


def test_a_page_rendered_while_a_write_commits_is_not_stored(tmp_path):
    store = LocalStore(tmp_path / "pages.sqlite3")
    page = StoredPage("200 OK", [], b"old words", [], []).encode()
    _, epoch = store.lookup("k")  # the reader starts
    store.forget({"post:1"})  # a write commits while it renders

    assert store.store("k", page, {"post:1"}, epoch, None) is False
    assert store.lookup("k")[0] is None
    _, epoch = store.lookup("k")
    assert store.store("k", page, {"post:1"}, epoch, None) is True
    store.forget({"post:2"})
    assert store.lookup("k")[0] == page  # another post's write leaves it
    store.forget({"post:1"})
    assert store.lookup("k")[0] is None


def test_the_local_store_forgets_its_oldest_pages_past_its_size(tmp_path):
    store = LocalStore(tmp_path / "pages.sqlite3", max_pages=10)
    for number in range(25):
        store.store(f"k{number}", b"{}", {"nav"}, store.lookup("x")[1], None)

    assert store.count() <= 10 and store.lookup("k24")[0] is not None


def test_the_cache_can_be_turned_off(make_app):
    app = make_app(ALL, config={"CACHE": {"pages": False}})
    client = app.test_client()

    assert [cache_state(client.get("/")) for _ in range(2)] == [None, None]
    assert "pressroom.page_cache" not in app.extensions


def test_cache_clear_command(site):
    client = site.test_client()
    client.get("/")

    result = site.test_cli_runner().invoke(args=["cache", "clear"])

    assert result.exit_code == 0 and "empty" in result.output
    assert cache_state(client.get("/")) == "miss"


# Two workers: a write through one, reads through the other -----------------------------


class Worker:
    """One app, as a gunicorn worker would have it: its own engine, its own memory."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def get(self, path: str):
        response = self.client.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        return response


@pytest.fixture
def workers(make_app, tmp_path):
    """(writer, reader): the writer logged in as an admin, the reader anonymous."""
    database = DATABASE_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'site.sqlite3'}"
    shared = {"SQLALCHEMY_DATABASE_URI": database, "THROTTLE_KEY_PREFIX": f"pc-{tmp_path.name}"}
    writer_app = make_app(ALL, config=shared, **SETTINGS)
    reader_app = make_app(ALL, config=shared, **SETTINGS)
    with writer_app.app_context():
        admin = User(username="alice", email="alice@example.com", role="admin",
                     display_name="Alice")  # fmt: skip
        admin.password_hash = TEST_PASSWORD_HASH
        db.session.add(admin)
        db.session.commit()
    writer = Worker(writer_app)
    writer.client.post("/login", data={"username": "alice", "password": "password123"})
    return writer, Worker(reader_app)


def editor_post(writer: Worker, title: str, body: str, status="publish", post_id=None, **more):
    with writer.app.app_context():
        names = more.pop("categories", ["River News"])
        category_ids = [c.id for c in categories_from_names(names, create=True)]
        db.session.commit()
    data = {"title": title, "body": body, "categories": category_ids,
            "tags": "Water", status: "1", **more}  # fmt: skip
    path = f"/admin/posts/{post_id}/edit" if post_id else "/admin/posts/new"
    answer = writer.client.post(path, data=data)
    assert answer.status_code == 302, answer.text[:2000]
    return int(answer.headers["Location"].split("/")[-2])


RIVER = "The river flooded the valley towns after the storm; rivers and floods again."


def pages_showing(year_month: str) -> list[str]:
    return ["/", "/feed/", "/category/river-news/", "/tag/water/", "/author/alice/",
            "/author/alice/feed/", f"/{year_month}/", f"/{year_month[:4]}/", "/archive/",
            "/sitemap.xml", "/category/river-news/feed/"]  # fmt: skip


def warm(reader: Worker, paths: list[str]) -> None:
    for path in paths:
        reader.get(path)
        assert cache_state(reader.get(path)) == "hit", path


def test_saving_a_post_refreshes_every_page_that_shows_it(workers):
    writer, reader = workers
    post_id = editor_post(writer, "Old river title", RIVER)
    neighbour = editor_post(writer, "Another flood", RIVER + " Valley towns.")
    # No category (its related box would list the category's newest) and no shared tag.
    untouched = editor_post(writer, "Cakes", "Baking sponge cakes.", categories=[], tags="")
    year_month = utcnow().strftime("%Y/%m")
    paths = [*pages_showing(year_month), "/old-river-title/", "/another-flood/"]
    warm(reader, [*paths, "/cakes/"])
    assert "Old river title" in reader.get("/another-flood/").text  # in its related box

    editor_post(writer, "New river title", RIVER, post_id=post_id, slug="old-river-title")

    for path in paths:
        page = reader.get(path)
        assert cache_state(page) == "miss", path  # rendered again
        if path not in ("/sitemap.xml", "/archive/"):  # (addresses; months)
            assert "New river title" in page.text and "Old river title" not in page.text, path
    cakes = reader.get("/cakes/")
    assert cache_state(cakes) == "hit"  # shows neither the post nor a list: kept
    assert neighbour and untouched


def test_publishing_unpublishing_and_deleting_refresh_lists_and_navigation(workers):
    writer, reader = workers
    editor_post(writer, "Cakes", "Baking sponge cakes.", categories=["Food"])
    warm(reader, ["/", "/cakes/", "/feed/", "/sitemap.xml"])

    post_id = editor_post(writer, "Flood warning", RIVER)
    home, cakes = reader.get("/").text, reader.get("/cakes/").text
    assert "Flood warning" in home and "Flood warning" in reader.get("/feed/").text
    assert "/flood-warning/" in reader.get("/sitemap.xml").text
    assert "River News" in cakes  # the navigation gained the category on every page

    editor_post(writer, "Flood warning", RIVER, status="save_draft", post_id=post_id)
    assert reader.get("/flood-warning/").status_code == 404
    assert "Flood warning" not in reader.get("/").text
    assert "River News" not in reader.get("/cakes/").text

    editor_post(writer, "Flood warning", RIVER, post_id=post_id)
    warm(reader, ["/", "/flood-warning/"])
    deleted = writer.client.post(f"/admin/posts/{post_id}/delete")
    assert deleted.status_code == 302
    assert reader.get("/flood-warning/").status_code == 404
    assert "Flood warning" not in reader.get("/").text


def test_a_scheduled_post_appears_when_it_goes_out(workers):
    writer, reader = workers
    editor_post(writer, "Cakes", "Baking sponge cakes.", categories=["Food"])
    warm(reader, ["/", "/feed/"])
    when = (utcnow() + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    post_id = editor_post(writer, "Tomorrow's flood", RIVER, published_at=when)
    assert "Tomorrow" not in reader.get("/").text

    with writer.app.app_context():
        published, _ = publish_due(utcnow() + timedelta(minutes=6))

    assert [post.id for post in published] == [post_id]
    assert "Tomorrow" in reader.get("/").text and "Tomorrow" in reader.get("/feed/").text


def test_comments_refresh_their_posts_pages(workers):
    writer, reader = workers
    post_id = editor_post(writer, "Talk", "Say something.")
    warm(reader, ["/talk/", "/", "/comments/talk/feed/"])
    with writer.app.app_context():
        held = Comment(post_id=post_id, author_name="Reader", author_email="r@example.com",
                       body="Held", body_html="<p>Held for review</p>",
                       status="pending")  # fmt: skip
        db.session.add(held)
        db.session.commit()
        comment_id = db.session.scalar(db.select(Comment.id))

    assert "Held for review" not in reader.get("/talk/").text
    writer.client.post(f"/admin/comments/{comment_id}/approve")
    with writer.app.app_context():
        assert db.session.get(Comment, comment_id).status == "approved", "moderation form"

    assert "Held for review" in reader.get("/talk/").text
    assert "Held for review" in reader.get("/comments/talk/feed/").text
    assert "1 comment" in reader.get("/").text.lower() or "1 Comment" in reader.get("/").text


def test_names_categories_and_media_refresh_what_shows_them(workers):
    writer, reader = workers
    editor_post(writer, "Flood warning", RIVER)
    warm(reader, ["/", "/flood-warning/", "/category/river-news/"])

    with writer.app.app_context():
        category_id = db.session.scalar(db.select(Category.id).where(Category.name == "River News"))
    writer.client.post(f"/admin/categories/{category_id}/",
                       data={"name": "Flood News", "slug": "river-news", "parent": 0})  # fmt: skip
    assert "Flood News" in reader.get("/flood-warning/").text

    writer.client.post("/admin/profile", data={"display_name": "Alice Waters",
        "email": "alice@example.com", "current_password": "password123"})  # fmt: skip
    assert "Alice Waters" in reader.get("/").text


def test_an_import_refreshes_the_lists(workers):
    writer, reader = workers
    editor_post(writer, "Cakes", "Baking sponge cakes.", categories=["Food"])
    warm(reader, ["/", "/feed/"])
    wxr = (b'<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"'
           b' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
           b' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
           b'<item><title>Imported flood</title><dc:creator>alice</dc:creator>'
           b'<content:encoded><![CDATA[Water everywhere.]]></content:encoded>'
           b'<wp:post_id>7</wp:post_id><wp:post_date_gmt>2024-05-01 10:00:00</wp:post_date_gmt>'
           b'<wp:post_name>imported-flood</wp:post_name><wp:status>publish</wp:status>'
           b'<wp:post_type>post</wp:post_type></item></channel></rss>')  # fmt: skip

    answer = writer.client.post(
        "/admin/import-export", data={"file": (BytesIO(wxr), "site.xml")},
        content_type="multipart/form-data",
    )  # fmt: skip
    answer.get_data()  # the import runs while the page streams

    assert answer.status_code in (200, 302, 303), answer.text[:1000]
    assert "Imported flood" in reader.get("/").text
    assert "Imported flood" in reader.get("/feed/").text


def test_a_page_rendered_before_a_save_and_stored_after_it_is_refused(workers):
    """The race the epoch closes: a reader renders the old post, the save commits and
    empties the store, then the reader's finished page arrives at the store."""
    writer, reader = workers
    post_id = editor_post(writer, "Before", "Words.")
    rendered, saved = threading.Event(), threading.Event()
    detail = reader.app.view_functions["posts.detail"]

    def slow_detail(**kwargs):
        page = detail(**kwargs)  # the old post is read and rendered
        rendered.set()
        saved.wait(timeout=30)
        return page

    reader.app.view_functions["posts.detail"] = slow_detail
    late = []
    thread = threading.Thread(target=lambda: late.append(reader.client.get("/before/")))
    thread.start()
    rendered.wait(timeout=30)
    editor_post(writer, "After", "Words.", post_id=post_id, slug="before")
    saved.set()
    thread.join(timeout=30)
    reader.app.view_functions["posts.detail"] = detail

    assert "Before" in late[0].text  # it was rendered before the save: fine to send once
    assert cache_state(late[0]) == "miss"
    fresh = reader.get("/before/")
    assert "After" in fresh.text and cache_state(fresh) == "miss"


def test_the_admin_counts_follow_a_write_made_through_another_worker(workers):
    """Kept until the site changes (blog.caching.until_site_changes), in each worker."""
    writer, other = workers
    other.client.post("/login", data={"username": "alice", "password": "password123"})
    editor_post(writer, "First draft", RIVER, status="save_draft")
    assert "Draft (1)" in other.get("/admin/").text

    editor_post(writer, "Second draft", RIVER, status="save_draft")
    post_id = editor_post(writer, "Out now", RIVER)

    listing = other.get("/admin/").text
    assert "All (3)" in listing and "Draft (2)" in listing and "Published (1)" in listing
    writer.client.post(f"/admin/posts/{post_id}/delete")
    assert "All (2)" in other.get("/admin/").text
