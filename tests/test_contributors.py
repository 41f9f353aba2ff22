"""Contributors write posts an editor reviews and publishes (WordPress's role)."""

import pytest

from blog.database import db
from blog.editing import PostData, PostError, save_post
from blog.models import Post, User
from tests.conftest import AuthActions


@pytest.fixture
def contributor(app, client, auth, add_user):
    add_user("cody", role="contributor")
    auth.login("cody")
    return client


def status_of(app, title):
    with app.app_context():
        return db.session.scalar(db.select(Post.status).where(Post.title == title))


def test_publish_is_submit_for_review(app, contributor):
    editor = contributor.get("/admin/posts/new").text

    sent = contributor.post("/admin/posts/new", data={"title": "My first", "body": "Words",
                                                      "publish": "1"})  # fmt: skip

    assert "Submit for review" in editor
    assert '<option value="published"' not in editor  # only Draft and Pending review
    assert sent.status_code == 302
    assert status_of(app, "My first") == "pending"
    assert contributor.get("/my-first/").status_code == 200  # the author sees it
    assert app.test_client().get("/my-first/").status_code == 404  # nobody else


@pytest.mark.parametrize("status", ["published", "unlisted", "private", "scheduled"])
def test_a_contributor_cannot_publish_even_with_a_crafted_form(app, contributor, status):
    sent = contributor.post("/admin/posts/new", data={"title": "Sneaky", "body": "Words",
                                                      "status": status, "save": "1"})  # fmt: skip

    assert sent.status_code == 422
    assert status_of(app, "Sneaky") is None


def test_saving_from_code_holds_a_contributor_to_review(app, add_user):
    add_user("cody", role="contributor")
    with app.app_context():
        cody = db.session.scalar(db.select(User).where(User.username == "cody"))
        with pytest.raises(PostError, match="submit it for review"):
            save_post(PostData(title="From code", status="published"), cody)
        assert save_post(PostData(title="Pending", status="pending"), cody).status == "pending"


def test_an_editor_publishes_it_and_then_it_is_the_editors(app, contributor, add_user):
    contributor.post("/admin/posts/new", data={"title": "Reviewed", "body": "Words",
                                               "publish": "1"})  # fmt: skip
    with app.app_context():
        post_id = db.session.scalar(db.select(Post.id).where(Post.title == "Reviewed"))
    add_user("eve", role="editor")
    editor = app.test_client()
    AuthActions(editor).login("eve")

    queue = editor.get("/admin/?status=pending").text
    published = editor.post(f"/admin/posts/{post_id}/edit", data={
        "title": "Reviewed", "body": "Words, edited", "publish": "1"})  # fmt: skip

    assert "Reviewed" in queue
    assert published.status_code == 302 and status_of(app, "Reviewed") == "published"
    assert contributor.get(f"/admin/posts/{post_id}/edit").status_code == 403
    assert contributor.post(f"/admin/posts/{post_id}/delete").status_code == 403
    assert contributor.get("/reviewed/").status_code == 200  # readable like any post


def test_a_contributor_keeps_to_their_own_posts(app, contributor, add_post):
    others = add_post("Alice's draft", author="alice", status="draft")
    add_post("Alice's post", author="alice")
    contributor.post("/admin/posts/new", data={"title": "Mine", "body": "W", "save_draft": "1"})

    listing = contributor.get("/admin/").text

    assert "Mine" in listing and "Alice" not in listing
    assert contributor.get(f"/admin/posts/{others}/edit").status_code == 403
    assert contributor.get("/admin/categories/").status_code == 403
    assert contributor.get("/admin/users/").status_code == 403


def test_the_role_is_offered_and_kept(app, writer, runner):
    added = writer.post("/admin/users/new", data={"username": "cody", "email": "c@example.com",
                                                  "role": "contributor",
                                                  "password": "a long new passphrase"})  # fmt: skip
    command = ["user", "create", "dora", "--email", "d@example.com", "--role", "contributor",
               "--password", "another passphrase"]  # fmt: skip
    made = runner.invoke(args=command)

    assert "Contributor" in writer.get("/admin/users/new").text
    assert added.status_code == 302 and made.exit_code == 0, made.output
    with app.app_context():
        roles = db.session.scalars(db.select(User.role).where(User.username != "alice")).all()
        assert roles == ["contributor", "contributor"]
