"""Comments: reading, writing, threading, moderation, spam defences, tools and the off switch."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from blog.database import db
from blog.models import Post, utcnow
from plugins.comments.models import Comment
from plugins.comments.views import thread
from tests.conftest import run_jobs
from tests.plugins.comments.helpers import form_token, post_comment
from tests.test_rendering import url_scheme

QUICK = {"min_seconds": 0, "moderation": "none", "rate_limit": "1000/minute"}
pytestmark = pytest.mark.plugins("categories", "comments", comments=QUICK)


@pytest.fixture
def post(add_post):
    """A published post: (id, slug)."""
    return add_post("Iraq talks", body="The article."), "iraq-talks"


def comments_in(app, **where):
    with app.app_context():
        query = db.select(Comment).order_by(Comment.id)
        for column, value in where.items():
            query = query.where(getattr(Comment, column) == value)
        return [
            {"id": c.id, "name": c.author_name, "status": c.status, "parent": c.parent_id,
             "html": c.body_html, "email": c.author_email}
            for c in db.session.scalars(query)
        ]  # fmt: skip


def section(page: str) -> str:
    return page.partition('<section id="comments"')[2].partition("</section>")[0]


# 1. Readers --------------------------------------------------------------------------


def test_pure_threading_nests_replies_under_parents():
    a, b, c, d = (Comment(id=n, parent_id=p) for n, p in ((1, None), (2, 1), (3, None), (4, 2)))

    nested = thread([a, b, c, d])

    assert [(top.id, [(r.id, [(rr.id, []) for rr, _ in sub]) for r, sub in replies])
            for top, replies in nested] == [(1, [(2, [(4, [])])]), (3, [])]  # fmt: skip


def test_reader_sees_approved_comments_oldest_first_with_name_date_avatar_permalink(
    app, client, post
):
    post_id, slug = post
    post_comment(client, post_id, slug, name="Ada Lovelace", body="First!")
    post_comment(client, post_id, slug, name="Grace", email="grace@example.com", body="Second.")

    page = client.get(f"/{slug}/").text
    comments = section(page)

    assert comments.index("First!") < comments.index("Second.")
    assert '<article class="comment" id="comment-1">' in comments
    assert '<a class="comment-permalink" href="#comment-1"><time datetime=' in comments
    assert '<svg class="avatar"' in comments and ">AL</text>" in comments
    assert "reader@example.com" not in page and "grace@example.com" not in page
    assert "<h2>2 Comments</h2>" in comments
    assert '<h2 id="reply-title">Leave a Comment</h2>' in comments


def test_comment_count_shows_in_post_meta_and_on_lists(client, post, add_post):
    post_id, slug = post
    add_post("Quiet post")
    post_comment(client, post_id, slug, body="One.")
    post_comment(client, post_id, slug, body="Two.")

    home = client.get("/").text

    assert '<a href="/iraq-talks/#comments">2 Comments</a>' in home
    assert '<a href="/quiet-post/#comments">No comments yet</a>' in home
    assert "2 Comments</a>" in client.get(f"/{slug}/").text


def test_replies_nest_and_reply_links_stop_at_the_depth_limit(app, client, post):
    app.config["PLUGINS"]["comments"]["thread_depth"] = 2
    post_id, slug = post
    post_comment(client, post_id, slug, body="Top.")
    reply_page = client.get(f"/{slug}/?reply_to=1").text
    post_comment(client, post_id, slug, body="Reply.", parent_id="1")

    too_deep = post_comment(client, post_id, slug, body="Too deep.", parent_id="2")
    comments = section(client.get(f"/{slug}/").text)

    assert "Replying to Reader." in reply_page and 'name="parent_id" type="hidden" value="1"' in (
        reply_page
    )
    assert comments_in(app)[1]["parent"] == 1
    assert '<ol class="comment-list children">' in comments
    assert comments.count('class="reply"') == 1  # the reply is at the limit: no Reply link
    assert too_deep.status_code == 422 and "cannot nest deeper" in too_deep.text


# The test changes settings (and dates) behind the app's back, where a site restarts:
# stored pages would not know.
@pytest.mark.config(CACHE={"pages": False})
def test_all_comments_show_unless_comments_per_page_is_set(app, client, post):
    post_id, slug = post
    for number in range(5):
        post_comment(client, post_id, slug, body=f"Comment {number}.")
    everything = section(client.get(f"/{slug}/").text)
    app.config["PLUGINS"]["comments"]["comments_per_page"] = 2

    first, last = client.get(f"/{slug}/").text, client.get(f"/{slug}/?cpage=3").text

    assert all(f"Comment {number}." in everything for number in range(5))
    assert "Comment 1." in first and "Comment 2." not in first
    assert "Comments page 1 of 3" in first and "Comment 4." in last


def test_the_form_remembers_the_reader_when_asked(client, post):
    post_id, slug = post

    post_comment(client, post_id, slug, name="Ada", email="ada@example.com",
                 website="https://ada.example", remember="y")  # fmt: skip
    remembered = client.get(f"/{slug}/").text
    post_comment(client, post_id, slug, name="Ada", email="ada@example.com", body="Again.")
    forgotten = client.get(f"/{slug}/").text

    assert 'value="Ada"' in remembered and 'value="https://ada.example"' in remembered
    assert 'value="ada@example.com"' in remembered
    assert 'value="Ada"' not in forgotten


@pytest.mark.config(CACHE={"pages": False})  # every view renders its comment fields
def test_the_blank_fields_kept_for_every_visitor_carry_nobody_s_words(app, client, post):
    """Blank, the form's fields are rendered once per worker (views.form_fields)."""
    post_id, slug = post
    post_comment(client, post_id, slug, name="Ada", email="ada@example.com", remember="y")
    failed = post_comment(client, post_id, slug, body="", name="Ada")
    remembered = client.get(f"/{slug}/").text  # rendered before any blank fields
    blank = app.test_client().get(f"/{slug}/").text
    again = app.test_client().get(f"/{slug}/").text  # kept

    assert 'value="Ada"' in remembered and "Write something before sending." in failed.text
    assert 'value="Ada"' not in blank and "Write something" not in blank
    assert 'maxlength="5000"' in blank and 'value="Ada"' not in again


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Tell us your name."),
        ({"email": ""}, "email", "Your email is needed"),
        ({"email": "not-an-email"}, "email", "does not look like an email address"),
        ({"website": "javascript:alert(1)"}, "website", "Give the full address"),
        # WTForms' URL() took this one: any scheme followed by "//".
        ({"website": "javascript://x%0Aalert(1)"}, "website", "starts with https:// or http://"),
        ({"body": ""}, "body", "Write something before sending."),
        ({"body": "x" * 5001}, "body", "5000 characters at most"),
    ],
)
def test_field_errors_show_in_place_and_keep_the_text(app, client, post, fields, field, message):
    post_id, slug = post

    response = post_comment(client, post_id, slug, **{"body": "Keep me.", **fields})

    assert response.status_code == 422
    errors = response.text.partition(f'id="{field}-errors"')[2].partition("</ul>")[0]
    assert message in errors
    if "body" not in fields:
        assert "Keep me." in response.text
    assert '<article class="post">' in response.text  # the post page, not a bare error
    assert comments_in(app) == []


# 2. Comment text ----------------------------------------------------------------------


def test_comment_markdown_is_a_safe_subset_with_ugc_links(app, client, post):
    post_id, slug = post

    post_comment(
        client, post_id, slug,
        body="*em* `code` [site](https://example.com)\n\n> quoted\n\n# no heading\n"
             "<script>alert(1)</script> ![pixel](https://tracker.example/p.gif)",
    )  # fmt: skip
    html = comments_in(app)[0]["html"]

    assert "<em>em</em>" in html and "<code>code</code>" in html
    assert '<a href="https://example.com" rel="nofollow ugc noopener">site</a>' in html
    assert "<blockquote>" in html
    assert "<h1>" not in html and "<script" not in html and "<img" not in html


def test_xss_payloads_in_comments_never_reach_the_page(app, client, post):
    from tests.conftest import shared_file

    post_id, slug = post
    payloads = shared_file("fixtures", "xss-payloads-quick.txt").read_text().splitlines()
    for number, payload in enumerate(p for p in payloads if p.strip()):
        post_comment(client, post_id, slug, body=payload, name=payload[:100],
                     email=f"x{number}@example.com", website="")  # fmt: skip

    comments = section(client.get(f"/{slug}/").text)

    assert len(comments_in(app)) == len([p for p in payloads if p.strip()])
    assert dangers_in(comments) == []


class DangerFinder(HTMLParser):
    """Elements and attributes that could run script, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "style", "base", "meta", "link"):
            self.found.append(tag)
        if tag == "svg" and ("class", "avatar") not in attrs:
            self.found.append("svg")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action", "formaction") and url_scheme(value or "") not in (
                "",
                "http",
                "https",
                "mailto",
            ):
                self.found.append(f"{tag} {name}={value}")


def dangers_in(html: str) -> list[str]:
    finder = DangerFinder()
    finder.feed(html)
    return finder.found


# 3. Moderation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "first", "after_approval"),
    [("none", "approved", "approved"), ("all", "pending", "pending"),
     ("new_authors", "pending", "approved")],
)  # fmt: skip
def test_moderation_modes(app, client, post, mode, first, after_approval):
    app.config["PLUGINS"]["comments"]["moderation"] = mode
    post_id, slug = post

    post_comment(client, post_id, slug, body="Hello.")
    with app.app_context():
        db.session.get(Comment, 1).status = "approved"
        db.session.commit()
    post_comment(client, post_id, slug, body="Me again.")

    statuses = [c["status"] for c in comments_in(app)]
    assert statuses == ["approved", after_approval] and first in ("approved", "pending")
    if mode != "none":
        assert comments_in(app)[0]["status"] == "approved"


def test_pending_comments_show_only_to_their_writer_and_to_staff(app, client, post, add_user, auth):
    app.config["PLUGINS"]["comments"]["moderation"] = "all"
    post_id, slug = post
    response = post_comment(client, post_id, slug, body="Wait for me.")
    stranger = app.test_client()

    writer_view = section(client.get(f"/{slug}/").text)
    stranger_view = section(stranger.get(f"/{slug}/").text)
    add_user("ed", role="editor")
    staff = app.test_client()
    staff.post("/login", data={"username": "ed", "password": "password123"})
    staff_view = section(staff.get(f"/{slug}/").text)

    assert response.status_code == 303
    assert "Wait for me." in writer_view and "awaiting moderation" in writer_view
    assert "Wait for me." not in stranger_view
    assert "Wait for me." in staff_view and ">Approve</button>" in staff_view


def test_many_links_send_a_comment_to_moderation(app, client, post):
    post_id, slug = post
    links = " ".join(f"[l{n}](https://example.com/{n})" for n in range(3))

    post_comment(client, post_id, slug, body=f"Look: {links}")

    assert comments_in(app)[0]["status"] == "pending"


@pytest.fixture
def queue(app, client, post):
    """Three comments, one in each state; returns the client."""
    app.config["PLUGINS"]["comments"]["moderation"] = "all"
    post_id, slug = post
    for body in ("Pending one.", "Approved one.", "Spam one."):
        post_comment(client, post_id, slug, body=body)
    with app.app_context():
        db.session.get(Comment, 2).status = "approved"
        db.session.get(Comment, 3).status = "spam"
        db.session.commit()
    return client


def test_moderation_queue_lists_each_status_with_buttons(queue, auth):
    auth.login()

    pending = queue.get("/admin/comments").text
    approved = queue.get("/admin/comments?status=approved").text
    spam = queue.get("/admin/comments?status=spam").text

    assert "Pending one." in pending and "Approved one." not in pending
    assert "Approved one." in approved and "Spam one." in spam
    for button in ("Approve", "Spam", "Delete"):
        assert f">{button}</button>" in pending
    assert "Pending (1)" in pending and "Approved (1)" in pending and "Spam (1)" in pending
    assert 'name="ids" value="1"' in pending and "Apply to ticked" in pending


def test_moderation_buttons_and_bulk_actions(app, queue, auth):
    auth.login()

    queue.post("/admin/comments/1/approve")
    queue.post("/admin/comments/2/spam")
    queue.post("/admin/comments/bulk", data={"ids": ["2", "3"], "action": "approve"})
    queue.post("/admin/comments/bulk", data={"ids": ["3"], "action": "delete"})

    assert [(c["id"], c["status"]) for c in comments_in(app)] == [(1, "approved"), (2, "approved")]
    assert queue.post("/admin/comments/1/launch").status_code == 400
    assert queue.post("/admin/comments/99/approve").status_code == 404


def test_post_authors_moderate_comments_on_their_own_posts_only(
    app, client, add_user, add_post, auth
):
    app.config["PLUGINS"]["comments"]["moderation"] = "all"
    add_user("bob", role="author")
    mine = add_post("Bob's post", author="bob")
    theirs = add_post("Alice's post", author="alice")
    post_comment(client, mine, "bobs-post", body="On Bob's.")
    post_comment(client, theirs, "alices-post", body="On Alice's.")
    auth.login("bob")

    listing = client.get("/admin/comments").text

    assert "On Bob's." in listing and "On Alice's." not in listing
    assert client.post("/admin/comments/2/approve").status_code == 404
    assert client.post("/admin/comments/1/approve").status_code == 302


def test_admin_nav_shows_pending_count(queue, auth):
    auth.login()

    nav = queue.get("/admin/").text.partition('class="admin-nav"')[2].partition("</nav>")[0]

    assert 'href="/admin/comments">Comments <span class="badge"' in nav and ">1</span>" in nav


def test_comments_close_per_post_and_open_again(app, client, post, auth):
    post_id, slug = post
    auth.login()
    token = form_token(client, slug)  # a form loaded before the comments closed

    client.post(f"/comments/{post_id}/close")
    closed_page = client.get(f"/{slug}/").text
    refused = client.post(
        f"/comments/{post_id}/",
        data={"name": "Late", "email": "late@example.com", "body": "Too late?", "started": token},
    )
    client.post(f"/comments/{post_id}/close", data={"open": "1"})

    assert "Comments are closed." in closed_page and "Leave a Comment" not in closed_page
    assert refused.status_code == 403
    assert post_comment(client, post_id, slug).status_code == 303


def test_only_people_who_may_edit_the_post_close_its_comments(client, post, add_user, auth):
    add_user("bob", role="author")
    auth.login("bob")

    assert client.post(f"/comments/{post[0]}/close").status_code == 403


# The test changes settings (and dates) behind the app's back, where a site restarts:
# stored pages would not know.
@pytest.mark.config(CACHE={"pages": False})
def test_comments_close_after_n_days(app, client, post):
    app.config["PLUGINS"]["comments"]["close_after_days"] = 14
    post_id, slug = post
    token = form_token(client, slug)
    with app.app_context():
        db.session.get(Post, post_id).published_at = utcnow() - timedelta(days=15)
        db.session.commit()

    page = client.get(f"/{slug}/").text
    refused = client.post(
        f"/comments/{post_id}/",
        data={"name": "Late", "email": "late@example.com", "body": "Too late?", "started": token},
    )

    assert "Comments close 14 days after a post is published." in page
    assert refused.status_code == 403


# 4 and 8. Spam defences and bad input ---------------------------------------------------


SAME_SITE = {"HTTP_ORIGIN": "http://localhost", "HTTP_SEC_FETCH_SITE": "same-origin"}


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_visitor_comments_from_a_page_that_set_no_cookie(app, client, post):
    page = client.get(f"/{post[1]}/")

    response = post_comment(client, *post, environ=SAME_SITE)

    assert "Set-Cookie" not in page.headers and "csrf_token" not in page.text
    assert response.status_code == 303
    assert [c["name"] for c in comments_in(app)] == ["Reader"]


@pytest.mark.config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize(
    "origin",
    ["https://localhost", "http://blog.test"],  # behind a proxy that ends HTTPS; [site] url
)
def test_a_comment_from_the_sites_own_address_is_taken(app, client, post, origin):
    response = post_comment(client, *post, environ={"HTTP_ORIGIN": origin})

    assert response.status_code == 303


@pytest.mark.config(WTF_CSRF_ENABLED=True)
@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "http://localhost.evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "http://localhost", "HTTP_SEC_FETCH_SITE": "same-site"},
    ],
)
def test_a_comment_another_site_sends_is_refused(app, client, post, environ):
    response = post_comment(client, *post, environ=environ)

    assert response.status_code == 403
    assert "sent from another site" in response.text
    assert comments_in(app) == []


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_logged_in_users_comment_still_needs_the_session_token(app, client, post, add_user):
    user_id = add_user("staff", role="editor")
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"  # the id and the session generation
        session["_fresh"] = True

    response = post_comment(client, *post, environ=SAME_SITE)

    assert response.status_code == 400
    assert comments_in(app) == []


def test_a_filled_honeypot_is_refused_with_a_reason(app, client, post):
    response = post_comment(client, *post, homepage="https://spam.example")

    assert response.status_code == 422
    assert "A field meant to stay empty was filled in" in response.text
    assert comments_in(app) == []


@pytest.mark.plugins("comments", comments={**QUICK, "min_seconds": 30})
def test_a_form_sent_too_fast_is_refused_and_keeps_the_text(app, client, post):
    response = post_comment(client, *post, body="My careful words.")

    assert response.status_code == 422
    assert "faster than a person types" in response.text
    assert "My careful words." in response.text
    assert comments_in(app) == []


@pytest.mark.parametrize("started", ["", "forged", "1.abc.def"])
def test_a_missing_or_forged_form_clock_is_refused(app, client, post, started):
    response = post_comment(client, *post, started=started)

    assert response.status_code == 422
    assert comments_in(app) == []


def test_the_form_clock_of_another_post_is_refused(app, client, post, add_post):
    other = add_post("Other post")
    token = form_token(client, "other-post")

    response = post_comment(client, *post, started=token)

    assert response.status_code == 422 and "belongs to another post" in response.text
    assert other and comments_in(app) == []


@pytest.mark.plugins("comments", comments={**QUICK, "rate_limit": "2/minute"})
def test_the_rate_limit_is_per_address_and_explained(app, client, post):
    for number in range(2):
        assert post_comment(client, *post, body=f"Number {number}.").status_code == 303

    third = post_comment(client, *post, body="Number 2.")
    elsewhere = post_comment(client, *post, body="Other address.",
                             environ={"REMOTE_ADDR": "10.1.2.3"})  # fmt: skip

    assert third.status_code == 429 and "several comments in a short time" in third.text
    assert elsewhere.status_code == 303


@pytest.mark.plugins("comments", comments={**QUICK, "blocklist": ["casino", "10.6.6.6"]})
@pytest.mark.parametrize(
    "fields",
    [{"body": "Best CASINO bonus"}, {"name": "Casino King"}, {"website": "https://casino.example"},
     {"environ": {"REMOTE_ADDR": "10.6.6.6"}}],
)  # fmt: skip
def test_blocklisted_words_and_addresses_are_refused(app, client, post, fields):
    response = post_comment(client, *post, **fields)

    assert response.status_code == 422
    assert "this site refuses" in response.text
    assert comments_in(app) == []


@pytest.mark.plugins("comments", comments={**QUICK, "blocklist": ["casino"]})
def test_a_blocklisted_word_inside_another_word_is_fine(app, client, post):
    assert post_comment(client, *post, body="Occasinoally misspelt").status_code == 303


def test_a_reply_to_a_comment_of_another_post_is_refused(app, client, post, add_post):
    other = add_post("Other post")
    post_comment(client, other, "other-post", body="Elsewhere.")

    response = post_comment(client, *post, parent_id="1")

    assert response.status_code == 422 and "not on this post" in response.text
    assert len(comments_in(app)) == 1


@pytest.mark.parametrize("parent", ["999", "abc", "-1"])
def test_a_reply_to_a_missing_comment_is_refused(app, client, post, parent):
    assert post_comment(client, *post, parent_id=parent).status_code == 422


def test_a_draft_takes_no_comments(app, client, add_post):
    draft = add_post("Secret", status="draft")

    response = client.post(f"/comments/{draft}/", data={"name": "x", "body": "x"})

    assert response.status_code == 404
    assert client.post("/comments/999/", data={"name": "x"}).status_code == 404


def test_the_same_comment_twice_is_refused(app, client, post):
    post_comment(client, *post, body="Echo.")

    again = post_comment(client, *post, body="Echo.")

    assert again.status_code == 409 and "already posted that comment" in again.text
    assert len(comments_in(app)) == 1


def test_naughty_strings_make_comments_that_render(app, client, post):
    import json

    from tests.conftest import shared_file

    strings = json.loads(shared_file("fixtures", "blns.json").read_text(encoding="utf-8"))
    token = form_token(
        client, post[1]
    )  # one page load: re-rendering 500 comments each time is slow
    statuses = {
        client.post(f"/comments/{post[0]}/", data={
            "body": text or "empty", "name": text[:100] or "x", "email": f"n{n}@example.com",
            "started": token}).status_code
        for n, text in enumerate(strings)
    }  # fmt: skip

    assert statuses <= {303, 422}  # 422 only where a name is blank after trimming
    assert client.get(f"/{post[1]}/").status_code == 200


# 5. Owner's tools ---------------------------------------------------------------------


def test_comment_feed_is_atom_with_each_approved_comment(app, client, post):
    post_id, slug = post
    post_comment(client, post_id, slug, name="Ada", body="*Feedable*.")
    with app.app_context():
        db.session.add(Comment(post_id=post_id, author_name="Hidden", author_email="h@x.com",
                               body="no", body_html="<p>no</p>", status="pending"))  # fmt: skip
        db.session.commit()

    response = client.get(f"/comments/{slug}/feed/")
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)

    assert response.content_type.startswith("application/atom+xml")
    assert len(entries) == 1
    assert entries[0].find("a:author/a:name", ns).text == "Ada"
    assert entries[0].find("a:id", ns).text == "http://blog.test/iraq-talks/#comment-1"
    assert "<em>Feedable</em>" in entries[0].find("a:content", ns).text
    assert client.get("/comments/no-such-post/feed/").status_code == 404


def test_cli_lists_approves_and_deletes(app, client, post, runner):
    app.config["PLUGINS"]["comments"]["moderation"] = "all"
    post_comment(client, *post, name="Ada", body="Via the shell.")
    post_comment(client, *post, name="Bob", body="Second.")

    listing = runner.invoke(args=["comments", "list", "--status", "pending"])
    approved = runner.invoke(args=["comments", "approve", "1"])
    deleted = runner.invoke(args=["comments", "delete", "2"])
    missing = runner.invoke(args=["comments", "approve", "7"])

    assert "pending" in listing.output and "/iraq-talks/  Ada <reader@example.com>" in (
        listing.output
    )
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC /iraq-talks/", listing.output)  # site zone
    assert approved.output == "Approved: 1 comment(s).\n"
    assert deleted.output == "Deleted: 1 comment(s).\n"
    assert missing.exit_code == 1 and "no comment with id 7" in missing.output
    assert [(c["id"], c["status"]) for c in comments_in(app)] == [(1, "approved")]


def test_new_comments_are_emailed_when_asked(app, client, post, smtp_server):
    port, messages = smtp_server
    app.config["PLUGINS"]["comments"].update(
        notify_emails=["owner@example.com"], smtp_port=port, moderation="all"
    )

    post_comment(client, *post, name="Ada", body="Email me.")
    assert messages == []  # not inside the commenter's request: a background job sends it
    run_jobs(app)

    assert len(messages) == 1
    text = messages[0].content.decode()
    assert messages[0].rcpt_tos == ["owner@example.com"]
    assert "Email me." in text and "awaiting moderation" in text
    assert "http://blog.test/admin/comments" in text


def test_a_failing_mail_server_does_not_lose_the_comment(app, client, post):
    app.config["PLUGINS"]["comments"].update(notify_emails=["o@example.com"], smtp_port=1)

    response = post_comment(client, *post, body="Still here.")

    assert response.status_code == 303
    assert comments_in(app)[0]["html"] == "<p>Still here.</p>\n"


# 7. Switching off ---------------------------------------------------------------------


@pytest.mark.plugins()
def test_no_comment_section_or_routes_when_switched_off(client, add_post):
    add_post("Quiet")

    page = client.get("/quiet/").text

    assert 'id="comments"' not in page and "Leave a Comment" not in page
    # No comment route: the address is only a would-be page's (/parent/child/), GET only.
    assert client.post("/comments/1/", data={}).status_code == 405
    assert client.get("/comments/quiet/feed/").status_code == 404
    assert client.get("/admin/comments").status_code == 404


def test_stored_comments_come_back_unchanged_after_a_switch_off(migrated_app):
    on = migrated_app(["comments"])
    on.config["PLUGINS"]["comments"] = dict(QUICK)
    with on.app_context():
        from blog.editing import PostData, save_post
        from blog.models import User

        save_post(PostData(title="Kept", status="published"),
                  author=User(username="al", email="al@example.com"))  # fmt: skip
    post_comment(on.test_client(), 1, "kept", body="Still here after the switch.")
    before = comments_in(on)

    off = migrated_app([])
    hidden = off.test_client().get("/kept/").text
    again = migrated_app(["comments"])

    assert "Still here" not in hidden
    assert comments_in(again) == before
    assert "Still here after the switch." in again.test_client().get("/kept/").text


def test_a_stored_website_that_is_not_http_is_never_a_link(app, client, post):
    """Whatever stored it (an old version, a script, the database by hand)."""
    post_id, slug = post
    with app.app_context():
        for url in ("javascript:alert(1)", "JavaScript://x%0Aalert(1)", "https://ada.example"):
            db.session.add(Comment(post_id=post_id, author_name="Ada", author_url=url,
                                   author_email="ada@example.com", body=url, body_html="<p>x</p>",
                                   status="approved"))  # fmt: skip
        db.session.commit()

    page = client.get(f"/{slug}/").text

    assert 'href="https://ada.example"' in page
    assert 'href="javascript' not in page.lower()
