"""Unlisted posts and share-a-draft links: readable by address, found nowhere else."""

import re

import pytest

from blog.database import db
from blog.models import Post

pytestmark = pytest.mark.plugins("categories", "related_posts")


@pytest.fixture
def writer(app, add_user):
    add_user("alice", role="admin")
    client = app.test_client()
    client.post("/login", data={"username": "alice", "password": "password123"})
    return client


def test_an_unlisted_post_is_read_by_its_address_only(app, client, add_post):
    for number in range(3):
        add_post(
            f"Listed cats {number}",
            body="Cats purr and nap in the sun. " * 20,
            categories=["Pets"],
            tags=["cats"],
        )
    add_post(
        "Hidden cats",
        body="Cats purr and nap in the sun. " * 20,
        status="unlisted",
        categories=["Pets"],
        tags=["cats"],
    )

    page = client.get("/hidden-cats/")
    assert page.status_code == 200
    assert '<meta name="robots" content="noindex">' in page.text
    assert "is unlisted" not in page.text  # the editor's note is for editors
    for address in (
        "/",
        "/feed/",
        "/sitemap.xml",
        "/tag/cats/",
        "/category/pets/",
        "/author/alice/",
        "/author/alice/feed/",
        "/category/pets/feed/",
        "/listed-cats-0/",
    ):
        response = client.get(address)
        assert response.status_code == 200, address
        assert "hidden-cats" not in response.text and "Hidden cats" not in response.text, address


def test_the_editor_offers_unlisted(app, writer):
    response = writer.post(
        "/admin/posts/new",
        data={"title": "By invitation", "status": "unlisted", "publish": "Publish"},
    )
    post_id = int(response.headers["Location"].split("/")[-2])
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.status == "unlisted" and post.published_at is not None
    assert "is unlisted" in writer.get("/by-invitation/").text


def share(writer, post_id, days=7) -> str:
    response = writer.post(f"/admin/posts/{post_id}/share", data={"days": str(days)})
    assert response.status_code == 200
    return re.search(r'id="share-link" type="text" readonly value="([^"]+)"', response.text)[1]


def test_a_share_link_shows_a_draft_to_someone_without_an_account(app, writer, add_post):
    post_id = add_post("Secret plans", body="Not yet.", status="draft")
    link = share(writer, post_id)
    assert link.startswith("http://blog.test/preview/")
    path = link.removeprefix("http://blog.test")
    reader = app.test_client()

    response = reader.get(path)

    assert response.status_code == 200
    assert "<h1>Secret plans</h1>" in response.text
    assert "A draft shared for review" in response.text
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert reader.get("/secret-plans/").status_code == 404  # the address alone is not enough

    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert reader.get(tampered).status_code == 404
    assert reader.get("/preview/not-a-token").status_code == 404


def test_a_share_link_expires(app, writer, add_post, monkeypatch):
    post_id = add_post("Secret plans", status="draft")
    path = share(writer, post_id, days=1).removeprefix("http://blog.test")
    real_time = __import__("time").time
    monkeypatch.setattr("blog.sharing.time.time", lambda: real_time() + 86_400 + 60)

    response = app.test_client().get(path)

    assert response.status_code == 410
    assert "This preview link has expired" in response.text


def test_a_share_link_leads_to_the_post_once_it_is_published(app, writer, add_post):
    post_id = add_post("Secret plans", status="draft")
    path = share(writer, post_id).removeprefix("http://blog.test")
    writer.post(f"/admin/posts/{post_id}/edit", data={"title": "Secret plans", "publish": "1"})

    response = app.test_client().get(path)

    assert response.status_code == 302 and response.headers["Location"] == "/secret-plans/"


def test_share_links_are_for_editors_and_sane_lifetimes(app, writer, add_post, add_user):
    post_id = add_post("Secret plans", status="draft")
    assert writer.post(f"/admin/posts/{post_id}/share", data={"days": "3650"}).status_code == 400
    add_user("bob", role="author")
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": "password123"})
    assert bob.post(f"/admin/posts/{post_id}/share", data={"days": "7"}).status_code == 403


def test_withdrawing_stops_every_link_made_so_far_and_new_ones_work(app, writer, add_post):
    post_id = add_post("Secret plans", status="draft")
    leaked = [share(writer, post_id, days).removeprefix("http://blog.test") for days in (1, 30)]
    other_post = share(writer, add_post("Other plans", status="draft"), 7)
    reader = app.test_client()

    withdrawn = writer.post(f"/admin/posts/{post_id}/share/withdraw")
    editor = writer.get(withdrawn.headers["Location"]).text
    fresh = share(writer, post_id).removeprefix("http://blog.test")

    assert withdrawn.status_code == 302
    assert "Share links withdrawn" in editor
    for path in leaked:
        response = reader.get(path)
        assert response.status_code == 410
        assert "The author has withdrawn this preview link." in response.text
    assert reader.get(fresh).status_code == 200
    assert reader.get(other_post.removeprefix("http://blog.test")).status_code == 200


def test_a_link_made_before_links_could_be_withdrawn_still_works(app, add_post):
    from blog.sharing import serializer

    post_id = add_post("Secret plans", status="draft")
    with app.app_context():
        token = serializer().dumps({"post": post_id, "expires": 2_000_000_000})

    assert app.test_client().get(f"/preview/{token}").status_code == 200


def test_only_the_posts_editors_withdraw_its_links(app, writer, add_post, add_user):
    post_id = add_post("Secret plans", status="draft")
    add_user("bob", role="author")
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": "password123"})

    assert bob.post(f"/admin/posts/{post_id}/share/withdraw").status_code == 403
    assert app.test_client().post(f"/admin/posts/{post_id}/share/withdraw").status_code == 302
    with app.app_context():
        assert db.session.get(Post, post_id).share_generation == 0
