"""The editor's safety nets: autosave, stale-copy conflicts, revisions, previews."""

import html
import re

import pytest
from sqlalchemy import func

from blog.database import db
from blog.editing import word_count
from blog.models import STATUS_HELP, Category, Post, Revision, Tag


def post_id_from(response) -> int:
    assert response.status_code == 302, response.text
    return int(response.headers["Location"].split("/")[-2])


def new_draft(writer, title="Draft", body="First words.") -> int:
    return post_id_from(
        writer.post("/admin/posts/new", data={"title": title, "body": body, "save_draft": "1"})
    )


def edit(writer, post_id, version, **fields):
    data = {"title": "Draft", "body": "", "version": str(version), "save_draft": "1", **fields}
    return writer.post(f"/admin/posts/{post_id}/edit", data=data)


def stored(app, post_id) -> Post:
    with app.app_context():
        post = db.session.get(Post, post_id)
        db.session.expunge(post)
        return post


def revisions_of(app, post_id, kind="save") -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (revision.title, revision.body)
            for revision in db.session.scalars(
                db.select(Revision)
                .where(Revision.post_id == post_id, Revision.kind == kind)
                .order_by(Revision.id)
            )
        ]


# ---- Word count


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("", (0, 0)),
        ("One two three.", (3, 1)),
        (
            "Don't stop — well-known [a link](https://example.com/a-long/path) ![alt](/x.png)",
            (6, 1),
        ),
        ("word " * 231, (231, 2)),
        ("Ünïcode 日本語 text", (3, 1)),
    ],
)
def test_word_count_and_reading_time(markdown, expected):
    assert word_count(markdown) == expected


def test_the_editor_shows_the_word_count_without_javascript(writer):
    post_id = new_draft(writer, body="one two three four")
    assert "4 words · 1 min read" in writer.get(f"/admin/posts/{post_id}/edit").text


# ---- Revisions


def test_every_save_with_changes_keeps_a_revision(app, writer):
    post_id = new_draft(writer, body="One.")
    edit(writer, post_id, 1, body="One. Two.")
    edit(writer, post_id, 2, body="One. Two.")  # nothing changed: nothing new to keep

    assert revisions_of(app, post_id) == [("Draft", "One."), ("Draft", "One. Two.")]
    assert stored(app, post_id).version == 3


def test_the_revisions_page_compares_any_two(app, writer):
    post_id = new_draft(writer, body="Line one.\nLine two.\nLine three.")
    edit(writer, post_id, 1, title="Better title", body="Line one.\nLine 2.\nLine three.")
    edit(writer, post_id, 2, title="Better title", body="Line one.\nLine 2.\nLine three.\nFour.")
    with app.app_context():
        first, second, third = db.session.scalars(
            db.select(Revision.id).where(Revision.post_id == post_id).order_by(Revision.id)
        ).all()

    latest = writer.get(f"/admin/posts/{post_id}/revisions/").text  # the last two by default
    assert '<li class="diff-added"><ins><span class="visually-hidden">Added: </span>Four.' in latest
    assert "diff-removed" not in latest

    page = writer.get(f"/admin/posts/{post_id}/revisions/?a={first}&b={third}").text
    assert "<h3>Title</h3>" in page and "<h3>Body</h3>" in page
    assert "Removed: </span>Line two.</del>" in page
    assert "Added: </span>Line 2.</ins>" in page
    assert "Removed: </span>Draft</del>" in page

    same = writer.get(f"/admin/posts/{post_id}/revisions/?a={second}&b={second}").text
    assert "These two versions have the same title, excerpt and body." in same
    assert writer.get(f"/admin/posts/{post_id}/revisions/?a={first}&b=99999").status_code == 404
    assert writer.get(f"/admin/posts/{post_id}/revisions/?a=x").status_code == 404


def test_restoring_a_revision_saves_it_as_a_new_one(app, writer):
    post_id = new_draft(writer, body="The original.")
    edit(writer, post_id, 1, body="A rewrite I regret.")
    with app.app_context():
        original = db.session.scalar(db.select(Revision.id).where(Revision.post_id == post_id))

    response = writer.post(f"/admin/posts/{post_id}/revisions/{original}/restore")

    assert response.headers["Location"].endswith(f"/admin/posts/{post_id}/edit")
    assert stored(app, post_id).body == "The original."
    assert "The original." in stored(app, post_id).body_html
    assert [body for _, body in revisions_of(app, post_id)] == [
        "The original.",
        "A rewrite I regret.",
        "The original.",
    ]
    with app.app_context():
        newest = db.session.scalar(db.select(Revision).order_by(Revision.id.desc()).limit(1))
        assert newest.note.startswith("Restored from ") and newest.note.endswith(" by alice")


def test_an_imported_posts_first_edit_keeps_the_words_it_came_with(app, writer):
    from blog.wordpress.importer import import_wordpress
    from tests.conftest import shared_file

    with app.app_context():
        import_wordpress(shared_file("fixtures", "wordpress-seed.xml"))
        post = db.session.scalars(db.select(Post).order_by(Post.id)).first()
        post_id, imported, imported_at = post.id, post.body, post.updated_at
    assert revisions_of(app, post_id) == []  # an import keeps no copy of its own

    edit(writer, post_id, 1, title=post.title, body="Rewritten here.", publish="1")
    edit(writer, post_id, 2, title=post.title, body="Rewritten again.", publish="1")
    page = writer.get(f"/admin/posts/{post_id}/revisions/").text

    assert [body for _, body in revisions_of(app, post_id)] == [
        imported,
        "Rewritten here.",
        "Rewritten again.",
    ]
    with app.app_context():
        first = db.session.scalar(db.select(Revision).order_by(Revision.id).limit(1))
        assert (first.created_at, first.author_id) == (imported_at, post.author_id)
    assert "As it was before its first edit here" in page


def test_revisions_are_for_those_who_may_edit_the_post(app, client, auth, add_user, add_post):
    post_id = add_post("Alice's", author="alice")
    add_user("bob", role="author")
    auth.login("bob")
    with app.app_context():
        revision = db.session.scalar(db.select(Revision.id))

    assert client.get(f"/admin/posts/{post_id}/revisions/").status_code == 403
    assert client.post(f"/admin/posts/{post_id}/revisions/{revision}/restore").status_code == 403


def test_another_person_s_autosave_is_theirs_alone(app, client, auth, add_user, add_post):
    """An editor's unsaved words on an author's post: the author neither reads nor restores
    them (their own autosave, they do)."""
    add_user("erin", role="editor")
    add_user("bob", role="author")
    post_id = add_post("Bob's", author="bob")
    auth.login("erin")
    redraft = {"title": "Bob's", "body": "Erin's private redraft", "version": "1"}
    client.post(f"/admin/posts/{post_id}/autosave", data=redraft)
    auth.logout()
    auth.login("bob")
    with app.app_context():
        erins = db.session.scalar(db.select(Revision.id).where(Revision.kind == "autosave"))

    page = client.get(f"/admin/posts/{post_id}/revisions/").text
    restore = client.post(f"/admin/posts/{post_id}/revisions/{erins}/restore")

    assert "Erin&#39;s private redraft" not in page and "Erin's private redraft" not in page
    assert restore.status_code == 404
    assert stored(app, post_id).body != "Erin's private redraft"


def test_a_revision_restores_only_onto_its_own_post(app, writer):
    first, second = new_draft(writer, "One"), new_draft(writer, "Two")
    with app.app_context():
        of_first = db.session.scalar(db.select(Revision.id).where(Revision.post_id == first))
    assert writer.post(f"/admin/posts/{second}/revisions/{of_first}/restore").status_code == 404


# ---- Two tabs


def test_a_save_from_a_stale_copy_is_refused_and_the_words_kept(app, writer):
    post_id = new_draft(writer, body="Shared start.")
    edit(writer, post_id, 1, body="Tab A's words.")  # both tabs opened at version 1

    response = edit(writer, post_id, 1, body="Tab B's words.")

    assert response.status_code == 409
    assert "this post was saved by someone else (or by you in another tab)" in response.text
    assert "Tab B&#39;s words." in response.text  # still on B's page, unsaved
    assert stored(app, post_id).body == "Tab A's words."
    assert 'name="version" type="hidden" value="2"' in response.text

    again = edit(writer, post_id, 2, body="Tab B's words.")  # B saw the warning, saves anyway
    assert again.status_code == 302
    assert stored(app, post_id).body == "Tab B's words."


def test_a_broken_version_number_is_a_field_error(app, writer):
    post_id = new_draft(writer)
    response = edit(writer, post_id, "two")
    assert response.status_code == 422
    assert "broken version number" in response.text


# ---- Autosave


def test_the_first_autosave_of_a_new_post_makes_a_draft(app, writer):
    assert writer.post("/admin/posts/autosave", data={"title": "", "body": " "}).get_json() == {
        "saved": False
    }

    answer = writer.post("/admin/posts/autosave", data={"title": "", "body": "Typing…"}).get_json()

    post = stored(app, answer["post_id"])
    assert (post.title, post.body, post.status) == ("Untitled draft", "Typing…", "draft")
    assert answer["edit_url"] == f"/admin/posts/{post.id}/edit"
    assert answer["autosave_url"] == f"/admin/posts/{post.id}/autosave"


def test_autosave_keeps_a_copy_without_touching_the_post(app, writer):
    post_id = new_draft(writer, body="Saved words.")

    answer = writer.post(
        f"/admin/posts/{post_id}/autosave",
        data={"title": "Draft", "body": "Saved words. And more typed", "version": "1"},
    ).get_json()
    writer.post(
        f"/admin/posts/{post_id}/autosave",
        data={"title": "Draft", "body": "Saved words. And more typed since", "version": "1"},
    )

    assert answer["saved"] and "conflict" not in answer
    assert stored(app, post_id).body == "Saved words."
    assert revisions_of(app, post_id, "autosave") == [
        ("Draft", "Saved words. And more typed since")
    ]


def test_reopening_the_editor_brings_back_autosaved_words(app, writer):
    post_id = new_draft(writer, body="Saved words.")
    writer.post(
        f"/admin/posts/{post_id}/autosave",
        data={"title": "Draft", "body": "Saved words. Then the browser crashed", "version": "1"},
    )

    page = writer.get(f"/admin/posts/{post_id}/edit").text

    assert "were autosaved and are back in the editor" in page
    assert ">\r\nSaved words. Then the browser crashed</textarea>" in page
    assert 'data-dirty="true"' in page

    writer.post(f"/admin/posts/{post_id}/autosave/discard")
    page = writer.get(f"/admin/posts/{post_id}/edit").text
    assert "autosaved" not in page and ">\r\nSaved words.</textarea>" in page


def test_saving_clears_the_autosave(app, writer):
    post_id = new_draft(writer)
    writer.post(
        f"/admin/posts/{post_id}/autosave", data={"title": "Draft", "body": "x", "version": "1"}
    )
    edit(writer, post_id, 1, body="x")
    assert revisions_of(app, post_id, "autosave") == []


def test_autosave_tells_of_a_save_made_elsewhere(app, writer):
    post_id = new_draft(writer)
    edit(writer, post_id, 1, body="Saved in another tab.")

    answer = writer.post(
        f"/admin/posts/{post_id}/autosave",
        data={"title": "Draft", "body": "Typed here.", "version": "1"},
    ).get_json()

    assert answer["conflict"].startswith("You (in another tab or window) saved this post at ")
    assert stored(app, post_id).body == "Saved in another tab."


def test_autosave_refuses_a_body_past_the_limit(app, writer):
    post_id = new_draft(writer)
    response = writer.post(f"/admin/posts/{post_id}/autosave", data={"body": "x" * 1_000_001})
    assert response.status_code == 413
    assert "1,000,000 is the most" in response.get_json()["error"]


def test_autosave_is_for_those_who_may_edit_the_post(app, client, auth, add_user, add_post):
    post_id = add_post("Alice's", author="alice")
    add_user("bob", role="author")
    auth.login("bob")
    assert client.post(f"/admin/posts/{post_id}/autosave", data={"body": "x"}).status_code == 403


# ---- Previews


@pytest.mark.plugins("categories", "related_posts", "comments")
def test_preview_as_published_shows_the_whole_page_and_saves_nothing(app, writer, add_post):
    post_id = add_post("Live title", body="Live words.", categories=["World News"])
    with app.app_context():
        category_id = db.session.get(Post, post_id).categories[0].id

    response = writer.post(
        f"/admin/posts/{post_id}/preview-page",
        data={
            "title": "Changed title",
            "body": "Changed **words**.",
            "categories": [category_id],
            "tags": "fresh",
            "version": "1",
        },
    )

    assert response.status_code == 200, response.text[response.text.index("<main") :]
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert '<article class="post">' in response.text
    assert "<h1>Changed title</h1>" in response.text
    assert "<strong>words</strong>" in response.text
    assert "A preview of your unsaved changes" in response.text
    assert '<meta name="description" content="Changed words.">' in response.text  # no excerpt
    assert stored(app, post_id).title == "Live title"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 1
        assert db.session.scalar(db.select(db.func.count(Tag.id))) == 0

    new = writer.post("/admin/posts/preview-page", data={"title": "", "body": "Unsaved."})
    assert new.status_code == 200 and "<h1>Untitled draft</h1>" in new.text


def test_the_server_side_preview_works_without_javascript(writer):
    response = writer.post(
        "/admin/posts/new",
        data={"title": "Try", "body": "# Big <script>alert(1)</script>", "preview": "Preview"},
    )
    assert response.status_code == 200
    preview = '<div class="post-body" id="live-preview" aria-live="polite">'
    assert (
        preview + '<h1 id="big-alert-1"><a href="#big-alert-1" rel="noopener">Big </a></h1>'
        in response.text
    )
    assert "<script>alert(1)" not in response.text


# ---- Post type and sticky


def test_the_editor_sets_type_and_sticky(app, writer, client):
    post_id = post_id_from(
        writer.post(
            "/admin/posts/new",
            data={"title": "Pinned", "type": "post", "sticky": "y", "publish": "1"},
        )
    )
    assert stored(app, post_id).sticky is True
    about = post_id_from(
        writer.post("/admin/posts/new", data={"title": "About me", "type": "page", "publish": "1"})
    )
    assert stored(app, about).type == "page"
    assert "About me" not in app.test_client().get("/").text
    assert client.get("/about-me/").status_code == 200

    bad = writer.post("/admin/posts/new", data={"title": "X", "type": "gallery", "publish": "1"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.text


# ---- Categories from the editor, and the status help


def test_an_editor_adds_a_category_without_javascript_and_keeps_the_text(writer, app):
    form = {"title": "Unsaved", "body": "Words not saved yet.", "categories": [],
            "new_category": "  Harbour   news ", "add_category": "Add category"}  # fmt: skip
    response = writer.post("/admin/posts/new", data=form)

    assert response.status_code == 200
    assert "Words not saved yet." in response.text  # still on the page, unsaved
    with app.app_context():
        category = db.session.scalar(db.select(Category).where(Category.name == "Harbour news"))
        assert category is not None
        assert db.session.scalar(db.select(func.count(Post.id))) == 0
    box = re.search(rf'<input[^>]*value="{category.id}"[^>]*>', response.text).group(0)
    assert "checked" in box
    assert 'id="new_category"' in response.text and 'value="Harbour news"' not in response.text

    # The same name again checks the one there is.
    again = writer.post("/admin/posts/new", data={**form, "new_category": "harbour news"})
    assert "Category checked (it was there already): Harbour news" in again.text
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Category.id))) == 1


def test_an_empty_category_name_is_a_form_error(writer):
    response = writer.post(
        "/admin/posts/new",
        data={"title": "T", "body": "B", "new_category": " ", "add_category": "Add category"},
    )
    assert response.status_code == 422
    assert "Give the category a name." in response.text


def test_only_those_who_manage_categories_may_add_one(client, auth, add_user, app):
    add_user("pat", role="author")
    auth.login("pat")
    page = client.get("/admin/posts/new").text
    assert 'name="new_category"' not in page
    refused = client.post(
        "/admin/posts/new",
        data={"title": "T", "body": "B", "new_category": "Mine", "add_category": "Add"},
    )
    assert refused.status_code == 403
    assert client.post("/admin/categories/add", data={"name": "Mine"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(func.count(Category.id))) == 0


def test_the_add_endpoint_answers_json(writer):
    made = writer.post("/admin/categories/add", data={"name": "Tides"})
    assert made.status_code == 201 and made.json["name"] == "Tides" and made.json["created"]
    found = writer.post("/admin/categories/add", data={"name": "tides"})
    assert found.status_code == 200 and found.json["id"] == made.json["id"]
    assert writer.post("/admin/categories/add", data={"name": ""}).status_code == 422


@pytest.mark.parametrize("status", ["draft", "published", "unlisted", "private"])
def test_the_status_help_describes_the_chosen_status_only(writer, add_post, app, status):
    post_id = add_post("Help", status=status, slug=f"help-{status}")
    page = writer.get(f"/admin/posts/{post_id}/edit").text
    field = page.partition('id="status"')[2].partition("</div>")[0]
    hints = [html.unescape(hint) for hint in re.findall(r'<p class="hint">([^<]*)</p>', field)]
    assert hints == [STATUS_HELP[status]]
    others = [help for name, help in STATUS_HELP.items() if name != status]
    assert not any(help in field.partition("</select>")[2] for help in others)
