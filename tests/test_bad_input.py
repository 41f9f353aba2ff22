"""Bad input never hurts the site: it gets a clear 4xx, and what is kept reads back whole.

Bodies past the limit get 413 wherever they are sent; a 10,000-character slug, bytes
that are not UTF-8 and control characters from any path get a plain answer and leave
pages and feeds well formed. Property tests send the editor and the comment form
arbitrary text: never a 5xx, and what was saved reads back as it was sent.
"""

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blog.database import db
from blog.models import Post, User
from blog.rendering import BODY_MAX, without_control_characters
from plugins.comments.models import Comment
from tests.plugins.comments.helpers import form_token, post_comment
from tests.test_hooks import WXR, import_text

CONTROLS = "".join(chr(code) for code in range(32) if chr(code) not in "\t\n\r") + "\x7f"
HAS_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TOO_LONG = "x" * (BODY_MAX + 1)


def test_a_body_past_the_limit_gets_413_wherever_it_is_sent(app, writer, add_post):
    post_id = add_post("Kept", body="Short.", author="alice")
    answers = {
        "save": writer.post("/admin/posts/new", data={"title": "Long", "body": TOO_LONG,
                                                      "publish": "1"}),
        "save an existing post": writer.post(f"/admin/posts/{post_id}/edit",
                                             data={"title": "Kept", "body": TOO_LONG,
                                                   "save_draft": "1"}),
        "the Preview button": writer.post("/admin/posts/new", data={"title": "Long",
                                                                    "body": TOO_LONG,
                                                                    "preview": "1"}),
        "live preview": writer.post("/admin/preview", data={"body": TOO_LONG}),
        "preview as published": writer.post("/admin/posts/preview-page",
                                            data={"title": "Long", "body": TOO_LONG}),
        "first autosave": writer.post("/admin/posts/autosave",
                                      data={"title": "Long", "body": TOO_LONG}),
        "autosave": writer.post(f"/admin/posts/{post_id}/autosave",
                                data={"title": "Kept", "body": TOO_LONG}),
    }  # fmt: skip

    for where, answer in answers.items():
        assert answer.status_code == 413, where
        assert "1,000,000" in answer.text, where  # says what the limit is
    with app.app_context():
        assert db.session.scalars(db.select(Post.body)).all() == ["Short."]


def test_a_request_past_the_size_limit_gets_a_413_page(client):
    answer = client.post("/login", data={"username": "x" * (17 * 1024 * 1024)})

    assert answer.status_code == 413
    assert "<html" in answer.text


@pytest.mark.plugins("categories")
def test_a_10000_character_slug_gets_a_plain_answer(app, writer, add_post):
    slug = "s" * 10_000
    add_post("Filed", categories=["News"])

    post = writer.post("/admin/posts/new", data={"title": "T", "body": "B", "slug": slug,
                                                 "publish": "1"})  # fmt: skip
    category = writer.post("/admin/categories/", data={"name": "Long", "slug": slug,
                                                       "parent": "0"})  # fmt: skip

    assert post.status_code == 422 and "slug-errors" in post.text
    assert category.status_code == 422
    for path in (f"/{slug}/", f"/category/{slug}/", f"/tag/{slug}/", f"/author/{slug}/",
                 f"/comments/{slug}/feed/", f"/category/{slug}/feed/"):  # fmt: skip
        assert writer.get(path).status_code == 404, path[:20]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 1


@pytest.mark.plugins("comments", comments={"min_seconds": 0, "moderation": "none"})
def test_bytes_that_are_not_utf8_are_kept_as_the_escapes_they_came_as(app, client, auth, add_post):
    """Werkzeug reads a form's bytes that are not UTF-8 as their %-escapes (its documented
    choice); paths and query strings get U+FFFD. Either way: a plain answer, text kept."""
    post_id = add_post("Talk", author="alice")
    started = form_token(client, "talk")
    form = "application/x-www-form-urlencoded"

    comment = client.post(f"/comments/{post_id}/", content_type=form, data=(
        b"name=Ann%FF&email=ann%40example.com&body=Caf%C3%28+au+lait&started=" + started.encode()
    ))  # fmt: skip
    search = client.get("/search?q=caf%C3%28")
    login = client.post("/login", content_type=form, data=b"username=%FF%FE&password=%80")
    path = client.get("/%FF%FE/")
    auth.login()
    saved = client.post("/admin/posts/new", content_type=form,
                        data=b"title=Half%E2%82+a+euro&body=%ED%A0%80&publish=1")  # fmt: skip

    assert comment.status_code == 303
    assert search.status_code == 200
    assert login.status_code == 422 and "Wrong user name or password" in login.text
    assert path.status_code == 404
    assert saved.status_code == 302
    with app.app_context():
        kept = db.session.scalar(db.select(Comment).where(Comment.post_id == post_id))
        assert (kept.author_name, kept.body) == ("Ann%FF", "Caf%C3( au lait")
        post = db.session.scalar(db.select(Post).where(Post.title.startswith("Half")))
        assert post.title == "Half%E2%82 a euro"
        assert post.body == "%ED%A0%80"  # an encoded surrogate is not UTF-8 either
    assert client.get(f"/{post.slug}/").status_code == 200


ITEM = """<item>
    <title>Imported{controls}</title><link>http://old.test/imported/</link>
    <dc:creator>ada</dc:creator><content:encoded><![CDATA[Old{controls} words]]></content:encoded>
    <wp:post_id>7</wp:post_id><wp:post_date_gmt>2024-01-05 09:30:00</wp:post_date_gmt>
    <wp:post_name>imported</wp:post_name><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
  </item>"""


@pytest.mark.plugins("categories", "comments")
def test_control_characters_from_any_path_never_reach_pages_or_feeds(
    app, client, auth, add_user, add_post, tmp_path
):
    """Not only the forms: posts saved by code (the CLI, a plugin), imports and comments
    written straight to the database lose them where rows are written."""
    add_user("ada", display_name=f"Ada{CONTROLS}")
    post_id = add_post(f"Escape{CONTROLS} red", body=f"Bell{CONTROLS} and `code{CONTROLS}`",
                       author="ada", categories=[f"World{CONTROLS} News"],
                       tags=[f"odd{CONTROLS}"])  # fmt: skip
    with app.app_context():
        db.session.add(Comment(post_id=post_id, author_name=f"Ann{CONTROLS}", status="approved",
                               author_email="ann@example.com", body=f"Hi{CONTROLS}",
                               body_html=f"<p>Hi{CONTROLS}</p>"))  # fmt: skip
        db.session.commit()
        post = db.session.get(Post, post_id)
        slug, category, tag = post.slug, post.categories[0].slug, post.tags[0].slug
    # XML 1.0 cannot carry the others at all (the importer refuses such a file); DEL it can.
    import_text(app, tmp_path, WXR.format(items=ITEM.format(controls="\x7f")))
    pages = ["/", f"/{slug}/", "/imported/", f"/category/{category}/", f"/tag/{tag}/",
             "/author/ada/", "/search?q=bell", "/archive/"]  # fmt: skip
    feeds = ["/feed/", f"/category/{category}/feed/", "/author/ada/feed/",
             f"/comments/{slug}/feed/", "/sitemap.xml"]  # fmt: skip

    for path in pages + feeds:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert not HAS_CONTROL.search(answer.text), path
    for path in feeds:
        ET.fromstring(client.get(path).data)  # well formed
    auth.login("ada")
    with app.app_context():
        db.session.execute(db.update(User).values(role="admin"))
        db.session.commit()
    for path in ("/admin/", f"/admin/posts/{post_id}/edit", "/admin/comments?status=approved"):
        assert not HAS_CONTROL.search(client.get(path).text), path


# Any text a person can type: every plane, control characters and lone line ends included
# (surrogates cannot be sent as UTF-8 at all).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
SOME_TEXT = ANY_TEXT.filter(lambda text: text.split())
FORMS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@FORMS
@given(title=SOME_TEXT, body=ANY_TEXT, excerpt=ANY_TEXT)
def test_the_editor_keeps_any_text_as_it_was_sent(app, writer, title, body, excerpt):
    sent = {"title": title, "body": body, "excerpt": excerpt, "save_draft": "1"}
    answer = writer.post("/admin/posts/new", data=sent)

    assert answer.status_code in (302, 422), answer.status_code
    if answer.status_code == 422:
        assert 'role="alert"' in answer.text  # and it says why
        return
    post_id = int(answer.headers["Location"].split("/")[-2])
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.title == " ".join(without_control_characters(title).split())
        assert post.body == without_control_characters(body)
        assert post.excerpt == without_control_characters(excerpt).strip()
    assert writer.get(f"/admin/posts/{post_id}/edit").status_code == 200
    assert writer.get(f"/admin/posts/{post_id}/revisions/").status_code == 200


@pytest.mark.plugins(
    "comments", comments={"min_seconds": 0, "moderation": "none", "rate_limit": "10000/minute"}
)
@FORMS
@given(name=SOME_TEXT, body=SOME_TEXT)
def test_the_comment_form_keeps_any_text_as_it_was_sent(app, client, add_post, name, body):
    with app.app_context():
        post = db.session.scalar(db.select(Post).where(Post.slug == "talk"))
        post_id = post.id if post else add_post("Talk")
    sent = post_comment(client, post_id, "talk", name=name, body=body)

    assert sent.status_code in (303, 409, 422), sent.status_code
    if sent.status_code != 303:
        return
    with app.app_context():
        comment = db.session.scalars(db.select(Comment).order_by(Comment.id.desc()).limit(1)).one()
        assert comment.author_name == " ".join(without_control_characters(name).split())
        assert comment.body == without_control_characters(body).strip()
    assert client.get("/talk/").status_code == 200
    ET.fromstring(client.get("/comments/talk/feed/").data)


@pytest.mark.plugins("categories", "comments", comments={"min_seconds": 0})
def test_nul_bytes_anywhere_get_a_plain_answer(app, client, add_post):
    """PostgreSQL cannot hold or compare text with NUL: every lookup with one failed."""
    post_id = add_post("Talk", categories=["News\x00 desk"], tags=["a\x00b"])

    assert client.get("/%00/").status_code == 404
    assert client.get("/category/news%00/").status_code == 404
    assert "a b" in client.get("/search?q=a%00+b").text  # the query, without the NUL
    assert client.get("/?page=1%00").status_code == 200
    assert client.get("/category/news-desk/?page=%00").status_code == 200  # as ?page=
    assert client.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 422
    answer = post_comment(client, post_id, "talk", name="Ann\x00", body="Hi\x00 there")
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Comment.body)) == "Hi there"


@pytest.mark.plugins("categories")
def test_raw_query_bytes_that_are_not_utf8_get_the_page(app, client, add_post):
    """A browser escapes them; a hand-made request may send them raw. Werkzeug read them
    strictly as UTF-8, and every page answered 500 (found with a page's redirect)."""
    add_post("Filed", categories=["News"])
    raw = {"QUERY_STRING": "q=caf\xe9&page=\xff\xfe"}  # WSGI's latin-1 text of the bytes

    for path in ("/", "/search", "/filed/", "/category/news/", "/feed/"):
        assert client.get(path, environ_overrides=raw).status_code == 200, path
    assert client.get("/filed", environ_overrides=raw).headers["Location"] == (
        "/filed/?q=caf%25E9&page=%25FF%25FE"  # kept escaped, as Werkzeug keeps them
    )
