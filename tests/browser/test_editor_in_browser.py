"""The editor in a real browser: logging in, the live preview, and publishing."""

import pytest

from tests.browser.helpers import log_in

pytestmark = pytest.mark.plugins("categories")


def test_live_preview_shows_sanitised_markdown_as_you_type(page, add_user):
    add_user("alice")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page)
    page.goto("/admin/posts/new")

    page.get_by_label("Body").fill(
        "## Heading\n\n**bold** text <img src=x onerror=alert(1)> [x](javascript:alert(2))"
    )

    preview = page.locator("#live-preview")
    preview.locator("strong").wait_for()
    assert preview.locator("h2").inner_text() == "Heading"
    assert preview.locator("strong").inner_text() == "bold"
    assert preview.locator("img").get_attribute("onerror") is None
    assert preview.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []


def test_write_and_publish_a_post(page, add_user):
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")

    page.get_by_label("Title").fill("Written in a browser")
    page.get_by_label("Body").fill("It *works*.")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url("**/edit")
    page.goto("/written-in-a-browser/")

    assert page.locator("article.post h1").inner_text() == "Written in a browser"
    assert page.locator(".post-body em").inner_text() == "works"


def test_invalid_title_is_shown_beside_the_field(page, add_user):
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")

    page.get_by_role("button", name="Save draft").click()

    assert page.locator("#title-errors").inner_text() == "Give the post a title."
    assert page.get_by_label("Title").get_attribute("aria-invalid") == "true"


def test_delete_needs_confirmation(page, add_user, add_post):
    add_user("alice")
    post_id = add_post("Doomed")
    log_in(page)
    page.goto(f"/admin/posts/{post_id}/edit")

    page.get_by_role("link", name="Delete this post").click()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/admin/")

    assert "Deleted: Doomed" in page.content()
    assert page.goto("/doomed/").status == 404


@pytest.mark.parametrize("width", [375, 1280])
def test_post_page_fits_phone_and_desktop(page, add_post, width):
    add_post("A fairly long title that has to wrap nicely on a phone screen", categories=["News"])
    page.set_viewport_size({"width": width, "height": 800})

    page.goto("/a-fairly-long-title-that-has-to-wrap-nicely-on-a-phone-screen/")

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width  # nothing sticks out sideways
    assert page.locator(".post-categories a").text_content() == "News"


def test_add_a_category_from_the_editor_without_leaving_the_post(page, add_user, app):
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")
    page.get_by_label("Title").fill("With a new category")
    page.get_by_label("Body").fill("Typed, not saved.")

    page.get_by_label("New category").fill("Tide tables")
    page.get_by_role("button", name="Add category").click()

    box = page.get_by_label("Tide tables", exact=True)
    box.wait_for()
    assert box.is_checked()
    assert page.url.endswith("/admin/posts/new")  # never left, nothing reloaded
    assert page.get_by_label("Body").input_value() == "Typed, not saved."
    assert page.get_by_label("New category").input_value() == ""

    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url("**/edit")
    page.goto("/with-a-new-category/")
    assert page.locator("a[href='/category/tide-tables/']").count() >= 1


def test_the_status_help_follows_the_chosen_status(page, add_user):
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")
    hint = page.locator(".field-selectfield:has(#status) .hint")
    assert hint.inner_text().startswith("Draft:")

    page.get_by_label("Status").select_option("unlisted")

    assert hint.inner_text().startswith("Unlisted:")
    assert "Draft" not in hint.inner_text()
