"""Every path that changes a post goes through blog/editing.py: the hooks fire once per
post, inside the transaction, and the search index and media use follow every change."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from blog import search
from blog.database import db
from blog.editing import PostData, save_post
from blog.models import Attachment, Post, Revision, User, attachment_use, utcnow
from blog.scheduling import publish_due
from tests.test_hooks import WXR_WITH_ONE_POST, import_text

PICTURE = "/uploads/2026/11/harbour.jpg"  # a library file; no bytes are needed on disk
OLD_SITE_PICTURE = "http://old.test/wp-content/uploads/harbour.jpg"


@pytest.fixture
def events():
    """What the spy plugin heard: (hook, post id, title, status, importing)."""
    return []


@pytest.fixture
def app(make_app, fake_plugins, events):
    def post_saved(post, form, importing):
        # Inside the transaction: the post is flushed and in this session, not yet committed.
        assert db.session().in_transaction()
        assert db.session.get(Post, post.id) is post
        events.append(("saved", post.id, post.title, post.status, importing))

    def post_deleted(post):
        assert db.session().in_transaction()
        events.append(("deleted", post.id, post.title, post.status, False))

    fake_plugins(spy={"post_saved": post_saved, "post_deleted": post_deleted})
    app = make_app(["spy"])
    with app.app_context():
        db.session.add_all(
            [Attachment(url=PICTURE, mime_type="image/jpeg"), Attachment(url=OLD_SITE_PICTURE)]
        )
        db.session.commit()
    return app


def indexed_title(post_id: int) -> str | None:
    column = "rowid" if search.on_sqlite() else "post_id"
    query = text(f"SELECT title FROM {search.TABLE} WHERE {column} = :id")  # noqa: S608
    return db.session.execute(query, {"id": post_id}).scalar()


def files_shown(post_id: int) -> set[str]:
    return set(
        db.session.scalars(
            db.select(Attachment.url)
            .join(attachment_use, attachment_use.c.attachment_id == Attachment.id)
            .where(attachment_use.c.post_id == post_id)
        )
    )


def assert_in_step(app, post_id: int, title: str, files: set[str]) -> None:
    with app.app_context():
        assert db.session.get(Post, post_id).title == title
        assert indexed_title(post_id) == title
        assert files_shown(post_id) == files


def post_id_from(response) -> int:
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].split("/")[-2])


def test_the_editor_creates_edits_and_changes_the_status(app, writer, events):
    post_id = post_id_from(
        writer.post(
            "/admin/posts/new",
            data={"title": "Harbour", "body": f"![Boats]({PICTURE})", "publish": "1"},
        )
    )
    assert events == [("saved", post_id, "Harbour", "published", False)]
    assert_in_step(app, post_id, "Harbour", {PICTURE})

    events.clear()
    writer.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Harbour at dusk", "body": "No picture now.", "save_draft": "1"},
    )

    assert events == [("saved", post_id, "Harbour at dusk", "draft", False)]
    assert_in_step(app, post_id, "Harbour at dusk", set())


def test_the_first_autosave_of_a_new_post_saves_a_draft(app, writer, events):
    answer = writer.post("/admin/posts/autosave", data={"title": "Notes", "body": PICTURE}).json

    assert events == [("saved", answer["post_id"], "Notes", "draft", False)]
    assert_in_step(app, answer["post_id"], "Notes", {PICTURE})


def test_the_command_line_creates_a_post(app, runner, add_user, events):
    add_user("alice", role="admin")

    result = runner.invoke(
        args=["post", "create", "--title", "From the shell", "--status", "published"],
        input=f"![Boats]({PICTURE})\n",
    )

    assert result.exit_code == 0, result.output
    with app.app_context():
        post_id = db.session.scalar(db.select(Post.id))
    assert events == [("saved", post_id, "From the shell", "published", False)]
    assert_in_step(app, post_id, "From the shell", {PICTURE})


def test_restoring_a_revision_saves_the_post(app, writer, events):
    post_id = post_id_from(
        writer.post("/admin/posts/new", data={"title": "First", "body": PICTURE, "save_draft": "1"})
    )
    writer.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Second", "body": "", "version": "1", "save_draft": "1"},
    )
    with app.app_context():
        first = db.session.scalar(
            db.select(Revision.id).where(Revision.post_id == post_id).order_by(Revision.id)
        )
    events.clear()

    writer.post(f"/admin/posts/{post_id}/revisions/{first}/restore")

    assert events == [("saved", post_id, "First", "draft", False)]
    assert_in_step(app, post_id, "First", {PICTURE})


def test_a_scheduled_post_goes_out_through_the_same_save(app, add_user, events):
    with app.app_context():
        author = db.session.get(User, add_user("alice"))
        when = utcnow() + timedelta(hours=1)
        data = PostData(title="Tomorrow", body=PICTURE, status="scheduled", published_at=when)
        post_id = save_post(data, author).id
        events.clear()

        published, failed = publish_due(when + timedelta(seconds=1))
        publish_due(when + timedelta(seconds=2))  # nothing is due twice

    assert [post.id for post in published] == [post_id] and failed == []
    assert events == [("saved", post_id, "Tomorrow", "published", False)]
    assert_in_step(app, post_id, "Tomorrow", {PICTURE})


def test_an_import_saves_each_post_it_creates(app, tmp_path, events):
    export = WXR_WITH_ONE_POST.replace(
        "<content:encoded>Hello</content:encoded>",
        f'<content:encoded><![CDATA[<img src="{OLD_SITE_PICTURE}" alt="Boats">]]>'
        "</content:encoded>",
    )

    import_text(app, tmp_path, export)
    import_text(app, tmp_path, export)  # already there: not saved again

    with app.app_context():
        post_id = db.session.scalar(db.select(Post.id))
    assert events == [("saved", post_id, "Imported", "published", True)]
    assert_in_step(app, post_id, "Imported", {OLD_SITE_PICTURE})


def test_deleting_a_post_tells_plugins_once_and_leaves_no_trace(app, writer, events):
    post_id = post_id_from(
        writer.post("/admin/posts/new", data={"title": "Gone", "body": PICTURE, "publish": "1"})
    )
    events.clear()

    writer.post(f"/admin/posts/{post_id}/delete", data={"submit": "Delete"})

    assert events == [("deleted", post_id, "Gone", "published", False)]
    with app.app_context():
        assert db.session.get(Post, post_id) is None
        assert indexed_title(post_id) is None
        assert files_shown(post_id) == set()
