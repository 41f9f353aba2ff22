"""Comments in a real browser: writing, replying, and refusals a person can read."""

import pytest

pytestmark = pytest.mark.plugins(
    "categories", "comments", comments={"min_seconds": 1, "moderation": "new_authors"}
)


def fill_comment(page, text, name="Ada", email="ada@example.com"):
    page.get_by_label("Comment", exact=True).fill(text)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)


def test_a_reader_comments_and_sees_it_awaiting_moderation(page, add_post):
    add_post("Talk to me")
    page.goto("/talk-to-me/")
    page.wait_for_timeout(1100)  # a person takes longer than the minimum to write

    fill_comment(page, "Hello *there*!")
    page.get_by_label("Remember my name, email and website on this browser").check()
    page.get_by_role("button", name="Post Comment").click()
    page.wait_for_url("**/talk-to-me/#comment-1")

    comment = page.locator("article.comment#comment-1")
    assert comment.locator(".comment-body em").inner_text() == "there"
    assert "awaiting moderation" in comment.inner_text()
    assert page.get_by_label("Name", exact=True).input_value() == "Ada"  # remembered
    assert page.locator("#comments h2").first.inner_text() == "No comments yet"  # not approved


def test_sending_too_fast_is_explained_and_keeps_the_text(app, page, add_post):
    app.config["PLUGINS"]["comments"]["min_seconds"] = 60  # surely faster than that, even in CI
    add_post("Talk to me")
    page.goto("/talk-to-me/")

    fill_comment(page, "Typed by a very fast hand.")
    page.get_by_role("button", name="Post Comment").click()

    assert page.get_by_role("alert").inner_text().startswith("That was sent faster")
    assert page.get_by_label("Comment", exact=True).input_value() == "Typed by a very fast hand."


def test_a_reply_nests_under_its_parent(app, page, add_post):
    app.config["PLUGINS"]["comments"]["moderation"] = "none"
    add_post("Talk to me")
    page.goto("/talk-to-me/")
    page.wait_for_timeout(1100)
    fill_comment(page, "First thought.")
    page.get_by_role("button", name="Post Comment").click()
    page.wait_for_url("**#comment-1")

    page.get_by_role("link", name="Reply to Ada").click()
    page.wait_for_timeout(1100)
    assert "Replying to Ada" in page.locator(".replying-to").inner_text()
    fill_comment(page, "A reply.", name="Grace", email="grace@example.com")
    page.get_by_role("button", name="Post Comment").click()
    page.wait_for_url("**#comment-2")

    reply = page.locator("#comment-1 ~ ol.children article.comment#comment-2")
    assert reply.locator(".comment-author").inner_text() == "Grace"
