"""The web editor: writing, previewing, publishing, deleting, and every bad field explained."""

import pytest

from blog.admin.posts import POSTS_PER_ADMIN_PAGE
from blog.database import db
from blog.models import Category, Post, User


def stored(app, post_id):
    with app.app_context():
        post = db.session.get(Post, post_id)
        return post and {
            "title": post.title,
            "slug": post.slug,
            "status": post.status,
            "body_html": post.body_html,
            "categories": [category.name for category in post.categories],
            "tags": [tag.name for tag in post.tags],
            "published_at": post.published_at,
            "summary": post.summary,
        }


def add_category(app, name, description=""):
    with app.app_context():
        from blog.editing import make_slug

        category = Category(name=name, slug=make_slug(name), description=description)
        db.session.add(category)
        db.session.commit()
        return category.id


def test_editor_has_labelled_fields_and_plain_buttons(writer):
    page = writer.get("/admin/posts/new").text

    for label in ("Title", "Body", "Tags", "Slug", "Status", "Excerpt"):
        assert f">{label}</label>" in page
    assert "<legend>Categories</legend>" in page  # a group of checkboxes
    for button in ("Preview", "Save draft", "Publish"):
        assert f'value="{button}"' in page


def test_save_draft_then_publish(app, writer):
    news = add_category(app, "World News")

    draft = writer.post(
        "/admin/posts/new",
        data={"title": "Hello world", "body": "First *words*.", "categories": [news],
              "tags": "greetings, First Steps", "save_draft": "Save draft"},
    )  # fmt: skip
    post_id = int(draft.headers["Location"].split("/")[-2])
    saved = stored(app, post_id)

    assert saved["status"] == "draft" and saved["published_at"] is None
    assert saved["slug"] == "hello-world"
    assert saved["body_html"] == "<p>First <em>words</em>.</p>\n"
    assert saved["categories"] == ["World News"]
    assert saved["tags"] == ["First Steps", "greetings"]
    assert saved["summary"] == "First words."

    published = writer.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Hello world", "body": "First *words*.", "categories": [news],
              "publish": "Publish"},
    )  # fmt: skip

    assert published.status_code == 302
    assert stored(app, post_id)["status"] == "published"
    assert stored(app, post_id)["published_at"] is not None
    assert "Hello world" in writer.get("/").text


def test_edit_form_shows_the_stored_post(app, writer, add_post):
    add_category(app, "Travel")
    post_id = add_post("Trip", body="Went *far*.", categories=["Travel"], tags=["sea"])

    page = writer.get(f"/admin/posts/{post_id}/edit").text

    assert 'value="Trip"' in page
    assert "Went *far*." in page
    assert 'value="sea"' in page
    assert "checked" in page.partition('name="categories"')[2][:200] or "checked" in page


def test_preview_button_renders_without_saving(app, writer):
    response = writer.post(
        "/admin/posts/new", data={"title": "Draft idea", "body": "Hi *there*", "preview": "Preview"}
    )

    assert response.status_code == 200
    assert (
        '<div class="post-body" id="live-preview" aria-live="polite"><p>Hi <em>there</em></p>'
        in (response.text)
    )
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_live_preview_renders_like_the_published_page(writer):
    response = writer.post(
        "/admin/preview", data={"body": "**bold** <script>alert(1)</script> [x](javascript:y)"}
    )

    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.text
    assert "<script" not in response.text and "javascript:" not in response.text.replace(
        "[x](javascript:y)", ""
    )


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_editor_posts_without_csrf_token_are_refused(app, writer):
    assert writer.post("/admin/posts/new", data={"title": "x", "publish": "1"}).status_code == 400
    assert writer.post("/admin/preview", data={"body": "x"}).status_code == 400


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": ""}, "title", "Give the post a title."),
        ({"title": "   "}, "title", "Give the post a title."),
        ({"title": "x" * 301}, "title", "Field cannot be longer than 300 characters."),
        ({"title": "Fine", "slug": "taken-slug"}, "slug", "is taken by another post"),
        ({"title": "Fine", "slug": "admin"}, "slug", "is used by the site itself"),
        ({"title": "Fine", "slug": "feed"}, "slug", "is used by the site itself"),
        ({"title": "Fine", "slug": "!!!"}, "slug", "Use letters or digits in the slug."),
        ({"title": "Fine", "categories": ["999"]}, "categories", "Unknown category"),
        ({"title": "Fine", "categories": ["nope"]}, "categories", "Invalid choice"),
        ({"title": "Fine", "status": "someday"}, "status", "Not a valid choice"),
        ({"title": "Fine", "published_at": "tomorrow"}, "published_at", "Not a valid datetime"),
        ({"title": "Fine", "published_at": "2026-13-40T25:00"}, "published_at", "Not a valid"),
        ({"title": "Fine", "type": "gallery"}, "type", "Not a valid choice"),
        ({"title": "Fine", "excerpt": "x" * 2001}, "excerpt", "longer than 2000 characters"),
        ({"title": "Fine", "tags": "x" * 1001}, "tags", "longer than 1000 characters"),
        ({"title": "Fine", "body": "x" * 1_000_001}, "body", "1,000,000 characters is the most"),
        ({"title": "Fine", "image_alt": "x" * 501}, "image_alt", "longer than 500 characters"),
    ],
)
def test_every_invalid_field_is_explained_and_nothing_is_saved(
    app, writer, add_post, data, field, message
):
    add_post("Taken slug")

    response = writer.post("/admin/posts/new", data={**data, "save_draft": "Save draft"})

    assert response.status_code == (413 if field == "body" else 422)  # 413: Content Too Large
    errors = response.text.partition(f'id="{field}-errors"')[2].partition("</ul>")[0]
    assert message in errors
    assert "The post was not saved" in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 1


def test_a_new_post_with_a_taken_title_gets_a_numbered_slug(app, writer, add_post):
    add_post("Same title")

    writer.post("/admin/posts/new", data={"title": "Same title", "publish": "Publish"})

    with app.app_context():
        slugs = db.session.scalars(db.select(Post.slug).order_by(Post.id)).all()
    assert slugs == ["same-title", "same-title-2"]


def test_a_published_slug_stays_when_the_title_changes(app, writer, add_post):
    post_id = add_post("Original title")

    writer.post(f"/admin/posts/{post_id}/edit", data={"title": "Better title", "publish": "1"})

    assert stored(app, post_id)["slug"] == "original-title"


def test_the_author_can_set_the_slug(app, writer, add_post):
    post_id = add_post("Original title")

    writer.post(
        f"/admin/posts/{post_id}/edit",
        data={"title": "Original title", "slug": "My Custom Slug", "publish": "1"},
    )

    assert stored(app, post_id)["slug"] == "my-custom-slug"
    assert writer.get("/my-custom-slug/").status_code == 200


def test_delete_asks_first_then_deletes(app, writer, add_post):
    post_id = add_post("Doomed post")

    confirm = writer.get(f"/admin/posts/{post_id}/delete")
    assert "Delete “Doomed post”?" in confirm.text
    assert stored(app, post_id) is not None

    done = writer.post(f"/admin/posts/{post_id}/delete")
    assert done.status_code == 302
    assert stored(app, post_id) is None
    assert writer.get("/doomed-post/").status_code == 404


def test_editing_a_missing_post_is_404(writer):
    assert writer.get("/admin/posts/999/edit").status_code == 404
    assert writer.post("/admin/posts/999/delete").status_code == 404


def test_post_list_filters_by_status_category_author_and_words(app, writer, add_post, add_user):
    add_user("bob", role="author")
    add_post("Published apple", categories=["Fruit"])
    add_post("Draft banana", status="draft", categories=["Fruit"])
    add_post("Draft carrot", status="draft", author="bob")
    with app.app_context():
        fruit = db.session.scalar(db.select(Category.id).where(Category.name == "Fruit"))
        bob = db.session.scalar(db.select(User.id).where(User.username == "bob"))

    def titles(**query):
        page = writer.get("/admin/", query_string=query).text
        return {
            t
            for t in ("apple", "banana", "carrot")
            if f"Published {t}" in page or f"Draft {t}" in page
        }

    assert titles() == {"apple", "banana", "carrot"}
    assert titles(status="draft") == {"banana", "carrot"}
    assert titles(status="published") == {"apple"}
    assert titles(category=fruit) == {"apple", "banana"}
    assert titles(author=bob) == {"carrot"}
    assert titles(q="BAN") == {"banana"}
    assert titles(q="%") == set()
    assert "Draft (2)" in writer.get("/admin/").text


def test_the_post_list_goes_by_pages_without_counting_every_row(writer, add_post):
    for number in range(POSTS_PER_ADMIN_PAGE + 1):
        add_post(f"Post {number:02d}")

    first, second = writer.get("/admin/").text, writer.get("/admin/?page=2").text

    assert "Post 25" in first and "Post 00" not in first and "Older posts" in first
    assert "Post 00" in second and "Post 01" not in second and "Newer posts" in second
    assert "All (26)" in first and "All (26)" in second  # the totals: by status
    for past_the_end in ("3", "0", "99999999999999999999"):
        assert writer.get(f"/admin/?page={past_the_end}").status_code == 404


def test_authors_see_only_their_own_posts_in_the_list(client, auth, add_user, add_post):
    add_post("Alice's post", author="alice")
    add_user("bob", role="author")
    add_post("Bob's post", author="bob")
    auth.login("bob")

    page = client.get("/admin/").text

    assert "Bob&#39;s post" in page and "Alice&#39;s post" not in page
    assert "All (1)" in page  # counted among bob's posts only


def test_categories_are_managed_with_clear_errors(app, writer):
    created = writer.post(
        "/admin/categories/", data={"name": "World News", "description": "From everywhere."}
    )
    duplicate = writer.post("/admin/categories/", data={"name": "World News"})
    empty = writer.post("/admin/categories/", data={"name": ""})

    assert created.status_code == 302
    assert duplicate.status_code == 422 and "exists already" in duplicate.text
    assert empty.status_code == 422 and "This field is required." in empty.text
    with app.app_context():
        category = db.session.scalar(db.select(Category))
        assert (category.slug, category.description) == ("world-news", "From everywhere.")
        category_id = category.id
    renamed = writer.post(
        f"/admin/categories/{category_id}/", data={"name": "Abroad", "slug": "abroad"}
    )
    assert renamed.status_code == 302
    writer.post(f"/admin/categories/{category_id}/delete")
    with app.app_context():
        assert db.session.scalar(db.select(Category)) is None


def test_deleting_a_category_keeps_its_posts(app, writer, add_post):
    post_id = add_post("Filed", categories=["Misc"])
    with app.app_context():
        category_id = db.session.scalar(db.select(Category.id))

    writer.post(f"/admin/categories/{category_id}/delete")

    assert stored(app, post_id)["categories"] == []


def test_admins_add_users_and_change_roles(app, writer):
    created = writer.post(
        "/admin/users/new",
        data={"username": "Bob", "email": "bob@example.com", "role": "author",
              "password": "long enough"},
    )  # fmt: skip
    clash = writer.post(
        "/admin/users/new",
        data={"username": "bob", "email": "b2@example.com", "role": "author", "password": "x" * 9},
    )
    no_password = writer.post(
        "/admin/users/new", data={"username": "carol", "email": "c@example.com", "role": "author"}
    )

    assert created.status_code == 302
    assert clash.status_code == 422 and "That user name is taken" in clash.text
    assert no_password.status_code == 422 and "Give the new account a password." in no_password.text
    with app.app_context():
        bob = db.session.scalar(db.select(User).where(User.username == "bob"))
        alice = db.session.scalar(db.select(User).where(User.username == "alice"))
        assert bob.check_password("long enough") and bob.role == "author"
        ids = bob.id, alice.id
    writer.post(
        f"/admin/users/{ids[0]}/",
        data={"username": "bob", "email": "bob@example.com", "role": "editor"},
    )
    last_admin = writer.post(
        f"/admin/users/{ids[1]}/",
        data={"username": "alice", "email": "alice@example.com", "role": "author"},
    )
    assert last_admin.status_code == 422 and "at least one admin" in last_admin.text
    with app.app_context():
        assert db.session.get(User, ids[0]).role == "editor"


def test_everyone_changes_their_own_password_with_the_current_one(app, client, auth, add_user):
    add_user("bob", role="author")
    auth.login("bob")
    base = {"email": "bob@example.com", "display_name": "Bob B."}

    wrong = client.post(
        "/admin/profile", data={**base, "current_password": "nope", "new_password": "x" * 10,
                                "confirm": "x" * 10},
    )  # fmt: skip
    mismatch = client.post(
        "/admin/profile", data={**base, "current_password": "password123",
                                "new_password": "x" * 10, "confirm": "y" * 10},
    )  # fmt: skip
    done = client.post(
        "/admin/profile", data={**base, "current_password": "password123",
                                "new_password": "brand new pass", "confirm": "brand new pass"},
    )  # fmt: skip

    assert wrong.status_code == 422 and "That is not your current password." in wrong.text
    assert mismatch.status_code == 422 and "The new passwords differ." in mismatch.text
    assert done.status_code == 302
    with app.app_context():
        bob = db.session.scalar(db.select(User).where(User.username == "bob"))
        assert bob.check_password("brand new pass") and bob.display_name == "Bob B."


def test_admins_edit_site_settings_with_clear_errors(app, writer):
    bad = writer.post(
        "/admin/settings",
        data={
            "title": "",
            "url": "not a url",
            "posts_per_page": "0",
            "timezone": "Mars/Olympus",
            "language": "English",
        },  # fmt: skip
    )
    form = writer.get("/admin/settings").text
    good = writer.post(
        "/admin/settings",
        data={"title": "Field Notes", "tagline": "Short ones", "url": "https://notes.example/",
              "posts_per_page": "5", "timezone": "America/Argentina/Buenos_Aires",
              "language": "pt-BR"},
    )  # fmt: skip

    assert bad.status_code == 422
    for message in ("This field is required.", "Invalid URL.", "Number must be between 1",
                    "Not a valid choice.", "Give a language tag such as"):  # fmt: skip
        assert message in bad.text
    assert '<option selected value="UTC">UTC</option>' in form
    assert good.status_code == 302
    assert app.config["SITE"]["title"] == "Field Notes"
    assert app.config["SITE"]["url"] == "https://notes.example"
    assert app.config["SITE"]["posts_per_page"] == 5
    assert app.config["SITE"]["timezone"] == "America/Argentina/Buenos_Aires"
    assert app.config["SITE"]["language"] == "pt-BR"
    assert "<title>Field Notes</title>" in writer.get("/").text


def test_only_admins_reach_the_settings(client, auth, add_user):
    add_user("ed", role="editor")
    auth.login("ed")

    assert client.get("/admin/settings").status_code == 403
