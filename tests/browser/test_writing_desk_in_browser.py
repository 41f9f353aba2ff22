"""The writing desk in Chromium: toolbar, shortcuts, autosave, leave warning, images,
scheduling, revisions, two tabs, and the editor with JavaScript switched off."""

import base64
import io
import re
import time
from datetime import timedelta

import pytest
from PIL import Image
from werkzeug.wsgi import get_input_stream

from blog.database import db
from blog.models import Post, utcnow
from tests.browser.helpers import log_in
from tests.conftest import shared_file

pytestmark = pytest.mark.plugins("categories")


@pytest.fixture
def editor(page, add_user):
    """Alice, logged in, on a new post."""
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")
    return page


def png(width=320, height=200, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def body_text(page) -> str:
    return page.get_by_label("Body").input_value()


def select_text(page, text):
    page.get_by_label("Body").evaluate(
        "(body, text) => { const at = body.value.indexOf(text);"
        " body.focus(); body.setSelectionRange(at, at + text.length); }",
        text,
    )


def test_toolbar_buttons_and_shortcuts_format_the_selection(editor):
    body = editor.get_by_label("Body")
    body.click()
    editor.keyboard.type("Make this strong and this slanted")

    select_text(editor, "strong")
    editor.keyboard.press("Control+b")
    assert body_text(editor) == "Make this **strong** and this slanted"
    editor.keyboard.press("Control+z")  # what the toolbar does can be undone
    assert body_text(editor) == "Make this strong and this slanted"
    select_text(editor, "strong")
    editor.keyboard.press("Control+b")
    select_text(editor, "slanted")
    editor.keyboard.press("Control+i")
    assert body_text(editor) == "Make this **strong** and this _slanted_"

    editor.keyboard.press("End")
    editor.keyboard.type("\nA title line")
    editor.get_by_role("button", name="Heading").click()
    editor.keyboard.press("End")
    editor.keyboard.type("\nWise words")
    editor.keyboard.press("Control+Shift+Period")
    editor.keyboard.press("End")
    editor.keyboard.type("\nrun")
    select_text(editor, "run")
    editor.keyboard.press("Control+e")
    editor.keyboard.press("End")
    editor.keyboard.type("\nsee docs")
    select_text(editor, "docs")
    editor.keyboard.press("Control+k")
    editor.keyboard.type("https://example.com/docs")  # the URL part is selected for typing

    assert body_text(editor).splitlines() == [
        "Make this **strong** and this _slanted_",
        "## A title line",
        "> Wise words",
        "`run`",
        "see [docs](https://example.com/docs)",
    ]
    assert editor.get_by_role("button", name="Bold").get_attribute("title") == "Bold (Ctrl+B)"

    preview = editor.locator("#live-preview")
    preview.locator("blockquote").wait_for()
    assert preview.locator("h2").inner_text() == "A title line"
    assert preview.locator("code").inner_text() == "run"


def test_word_count_and_focus_mode(editor):
    editor.get_by_label("Body").fill("One two three four five.")
    assert editor.locator("#word-count").inner_text() == "5 words · 1 min read"

    editor.get_by_role("button", name="Focus").click()
    assert editor.locator(".editor-side").is_hidden()
    assert editor.get_by_label("Body").is_visible()
    editor.keyboard.press("Escape")
    assert editor.locator(".editor-side").is_visible()


def test_autosave_survives_a_reload_and_a_crash(editor, app):
    editor.get_by_label("Title").fill("Never lose a word")
    editor.get_by_label("Body").click()
    editor.keyboard.type("Typed before the reload.")
    status = editor.locator("#autosave-status")
    status.filter(has_text="Autosaved").wait_for()
    editor.wait_for_url(re.compile(r"/admin/posts/\d+/edit$"))  # the new post became a draft
    edit_url = editor.url

    editor.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" on reload
    editor.reload()
    assert body_text(editor) == "Typed before the reload."

    editor.get_by_label("Body").press("End")
    editor.keyboard.type(" Then more, then a crash.")
    editor.locator("#autosave-status").filter(has_text="Autosaved").wait_for()
    context = editor.context
    editor.close()  # no unload handlers run: as good as a crash

    again = context.new_page()
    again.goto(edit_url)
    assert body_text(again) == "Typed before the reload. Then more, then a crash."
    assert again.locator("#restored-autosave").is_visible()
    with app.app_context():
        post = db.session.scalar(db.select(Post))
        assert (post.title, post.status) == ("Never lose a word", "draft")


def cut_off(app, context) -> callable:
    """The server out of reach from this browser until the returned function puts it
    back: the network off and every request refused; and since Chromium sends a beacon
    (the editor's last autosave as a tab closes) past both, the site answers 503 to what
    still arrives, as a proxy does while the app is down."""
    serving = app.wsgi_app

    def down(environ, start_response):
        # Read what was sent, as an app would: Werkzeug's test server otherwise reads the
        # rest itself after answering, blocked until the browser hangs up (29 s, seen on
        # the closing tab's beacon), and the next page waits behind it.
        get_input_stream(environ).read()  # bounded by Content-Length: a GET reads nothing
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down"]

    def refuse(route):
        route.abort("connectionrefused")

    app.wsgi_app = down
    context.set_offline(True)
    context.route("**/*", refuse)

    def reconnect():
        context.unroute("**/*", refuse)
        context.set_offline(False)
        app.wsgi_app = serving

    return reconnect


def test_words_typed_before_the_server_got_them_come_back(editor, app):
    editor.get_by_label("Title").fill("Lost at sea")
    editor.get_by_label("Body").click()
    context = editor.context
    reconnect = cut_off(app, context)  # before the first autosave could reach the server
    editor.keyboard.type("Words the server never saw.")
    editor.locator("#autosave-status").filter(has_text="Autosave failed").wait_for()
    editor.close()  # no unload handlers run: the tab is simply gone
    again = context.new_page()
    # Still cut off: whatever the closing tab sent (its beacon) meets the refusal now,
    # rather than going through when the route is lifted (Playwright lets paused
    # requests go on when it unroutes).
    again.wait_for_timeout(1500)
    reconnect()
    with app.app_context():
        assert db.session.scalar(db.select(Post)) is None  # nothing reached the server

    again.goto("/admin/posts/new")
    offer = again.locator("#browser-backup")
    assert "never reached the server" in offer.inner_text()
    assert body_text(again) == ""
    again.get_by_role("button", name="Restore them").click()

    assert body_text(again) == "Words the server never saw."
    assert again.get_by_label("Title").input_value() == "Lost at sea"
    assert offer.count() == 0
    # Back in the editor, they go to the server as any typing does.
    again.locator("#autosave-status").filter(has_text="Autosaved").wait_for()
    with app.app_context():
        assert db.session.scalar(db.select(Post.title)) == "Lost at sea"
    # The server has them now: the browser's copy is gone, and nothing is offered.
    again.reload()
    assert again.locator("#browser-backup").count() == 0
    assert again.evaluate("Object.keys(localStorage)") == []


def test_an_existing_posts_words_come_back_or_are_discarded(page, add_user, add_post, app):
    add_user("alice")
    post_id = add_post("Charted", body="The saved words.", author="alice")
    log_in(page)
    page.goto(f"/admin/posts/{post_id}/edit")
    context = page.context
    reconnect = cut_off(app, context)
    page.get_by_label("Body").press("End")
    page.keyboard.type(" And the unsaved ones.")
    page.wait_for_timeout(400)  # the browser's copy is written within 200 ms
    page.close()
    again = context.new_page()
    again.wait_for_timeout(1500)  # still cut off, as above
    reconnect()

    again.goto(f"/admin/posts/{post_id}/edit")
    assert body_text(again) == "The saved words."
    again.get_by_role("button", name="Discard them").click()
    assert again.locator("#browser-backup").count() == 0
    again.reload()
    assert again.locator("#browser-backup").count() == 0
    assert body_text(again) == "The saved words."

    # A new post's copy and this post's are kept apart.
    again.goto("/admin/posts/new")
    assert again.locator("#browser-backup").count() == 0


def test_leaving_with_unsaved_changes_asks_first(editor):
    dialogs = []
    editor.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    editor.get_by_label("Body").click()
    editor.keyboard.type("Half a thought")

    editor.get_by_role("link", name="Posts").click(no_wait_after=True)
    editor.wait_for_timeout(500)

    assert dialogs == ["beforeunload"]
    assert editor.url.endswith("/admin/posts/new") or editor.url.endswith("/edit")
    editor.get_by_label("Title").fill("Whole thought")
    editor.get_by_role("button", name="Save draft").click()  # saving leaves without asking
    editor.wait_for_url("**/edit")
    assert dialogs == ["beforeunload"]


def test_insert_an_image_from_the_toolbar(editor, tmp_path):
    picture = tmp_path / "red square.png"
    picture.write_bytes(png(1200, 800))
    editor.get_by_label("Body").fill("Before the picture.")

    with editor.expect_file_chooser() as chooser:
        editor.get_by_role("button", name="Image", exact=True).click()
    chooser.value.set_files(str(picture))
    dialog = editor.get_by_role("dialog", name="Describe the image")
    dialog.get_by_label("Alt text for the image").fill("A red square")
    dialog.get_by_role("button", name="Insert image").click()

    editor.locator("#autosave-status").filter(has_text="Image added").wait_for()
    assert re.fullmatch(
        r"Before the picture\.\n\n!\[A red square\]\(/uploads/\d{4}/\d\d/red-square\.png\)\n",
        body_text(editor),
    )
    image = editor.locator("#live-preview img")
    image.wait_for()
    assert image.get_attribute("alt") == "A red square"
    assert "480w" in image.get_attribute("srcset") and "960w" in image.get_attribute("srcset")
    # The element comes before its file. decode() waits for the file and fails if the
    # browser cannot decode it. (Not wait_for_function: its polling evals a string, which
    # the page's CSP refuses, so it failed whenever the first look came too early.)
    image.evaluate("img => img.decode()")
    assert image.evaluate("img => img.naturalWidth") > 0


PASTE = """async ([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const body = document.getElementById("body");
  body.focus();
  const options = { clipboardData: transfer, bubbles: true, cancelable: true };
  body.dispatchEvent(new ClipboardEvent("paste", options));
}"""


def paste(page, name, mime_type, data: bytes):
    page.evaluate(PASTE, [name, mime_type, base64.b64encode(data).decode()])


def test_paste_an_image_and_refuse_an_svg(editor):
    paste(editor, "image.png", "image/png", png())
    dialog = editor.get_by_role("dialog", name="Describe the image")
    dialog.get_by_label("Alt text for the image").fill("Pasted")
    dialog.get_by_role("button", name="Insert image").click()
    editor.locator("#autosave-status").filter(has_text="Image added").wait_for()
    assert body_text(editor).startswith("![Pasted](/uploads/")

    svg = shared_file("fixtures", "xss-svg-script.svg").read_bytes()
    dialogs = []
    editor.on("dialog", lambda alert: (dialogs.append(alert.message), alert.dismiss()))
    paste(editor, "evil.svg", "image/svg+xml", svg)
    dialog.get_by_role("button", name="Insert image").click()

    error = editor.locator("#upload-error")
    error.wait_for()
    assert "SVG images are not accepted" in error.inner_text()
    assert "svg" not in body_text(editor)
    assert dialogs == []  # the SVG's script never ran


DROP = """async ([name, type, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const body = document.getElementById("body");
  const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
  body.dispatchEvent(new DragEvent("dragover", options));
  body.dispatchEvent(new DragEvent("drop", options));
}"""


def test_drop_an_image_into_the_body(editor):
    editor.get_by_label("Body").fill("Dropped below:")
    editor.get_by_label("Body").press("End")
    editor.evaluate(DROP, ["photo.png", "image/png", base64.b64encode(png()).decode()])
    dialog = editor.get_by_role("dialog", name="Describe the image")
    dialog.get_by_label("Alt text for the image").fill("Dropped")
    dialog.get_by_label("Alt text for the image").press("Enter")  # Enter inserts
    editor.locator("#autosave-status").filter(has_text="Image added").wait_for()
    assert re.fullmatch(
        r"Dropped below:\n\n!\[Dropped\]\(/uploads/\S+/photo\.png\)\n", body_text(editor)
    )


def test_schedule_a_post_and_it_goes_out_by_itself(editor, new_tab, app):
    editor.get_by_label("Title").fill("Timed post")
    editor.get_by_label("Body").fill("Out in a moment.")
    when = (utcnow() + timedelta(seconds=4)).replace(microsecond=0)
    editor.get_by_label("Publish date (UTC)").fill(when.strftime("%Y-%m-%dT%H:%M:%S"))
    assert editor.get_by_role("button", name="Schedule", exact=True).is_visible()

    editor.get_by_role("button", name="Schedule", exact=True).click()
    editor.wait_for_url("**/edit")
    assert "Scheduled: Timed post goes out on" in editor.content()

    visitor = new_tab()
    assert visitor.goto("/timed-post/").status == 404
    time.sleep(max(0.0, (when - utcnow()).total_seconds()) + 0.5)
    assert visitor.goto("/timed-post/").status == 200  # this request published it
    assert visitor.locator("article.post h1").inner_text() == "Timed post"
    with app.app_context():
        assert db.session.scalar(db.select(Post.status)) == "published"


@pytest.mark.config(
    SITE={"title": "My Blog", "url": "http://blog.test", "timezone": "Asia/Kolkata"}
)
def test_the_schedule_button_reads_the_date_in_the_site_zone(new_tab, add_user):
    add_user("alice")
    page = new_tab(timezone_id="America/New_York")  # the author is away; the site is in India
    log_in(page)
    page.goto("/admin/posts/new")
    date = page.get_by_label("Publish date (Asia/Kolkata)")
    in_india = utcnow() + timedelta(hours=5, minutes=30)

    date.fill((in_india - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    past = page.get_by_role("button", name="Publish", exact=True).is_visible()
    date.fill((in_india + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    future = page.get_by_role("button", name="Schedule", exact=True).is_visible()

    assert past and future


def test_restore_an_earlier_revision(page, add_user, add_post):
    add_user("alice")
    post_id = add_post("Evolving", body="The first version.")
    log_in(page)
    page.goto(f"/admin/posts/{post_id}/edit")
    page.get_by_label("Body").fill("A second version, worse.")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url("**/edit")

    page.get_by_role("link", name="Revisions").click()
    assert page.locator(".diff-removed").inner_text().endswith("The first version.")
    assert page.locator(".diff-added").inner_text().endswith("A second version, worse.")
    page.get_by_role("button", name="Restore this version").click()
    page.wait_for_url("**/edit")

    assert body_text(page) == "The first version."
    assert "Restored the version of" in page.content()
    page.goto("/evolving/")
    assert page.locator(".post-body").inner_text() == "The first version."


def test_two_tabs_are_told_of_each_other(editor, add_post):
    post_id = add_post("Shared", body="Start.")
    first = editor
    second = first.context.new_page()
    for tab in (first, second):
        tab.goto(f"/admin/posts/{post_id}/edit")

    first.get_by_label("Body").fill("Saved in the first tab.")
    first.get_by_role("button", name="Publish", exact=True).click()
    first.wait_for_url("**/edit")

    second.get_by_label("Body").click()
    second.keyboard.type(" Typed in the second.")
    warning = second.locator("#autosave-conflict")
    warning.wait_for()
    assert "saved this post at" in warning.inner_text()

    second.get_by_role("button", name="Publish", exact=True).click()
    second.locator("#conflict").wait_for()
    assert body_text(second) == "Start. Typed in the second."  # kept, not lost
    second.goto(f"/admin/posts/{post_id}/edit")
    # Reopened, the second tab's words come back from its autosave, not silently lost.
    assert body_text(second).endswith("Typed in the second.")


def test_preview_as_published_opens_the_page_in_a_new_tab(editor):
    editor.get_by_label("Title").fill("Looks right?")
    editor.get_by_label("Body").fill("**Bold** claim.")
    with editor.context.expect_page() as opened:
        editor.get_by_role("button", name="Preview as published").click()
    preview = opened.value
    preview.wait_for_load_state()
    assert preview.locator("article.post h1").inner_text() == "Looks right?"
    assert preview.locator(".post-body strong").inner_text() == "Bold"
    assert "A preview of your unsaved changes" in preview.content()


@pytest.fixture
def no_script_page(new_tab):
    return new_tab(java_script_enabled=False)


def test_the_editor_works_without_javascript(no_script_page, add_user, tmp_path, app):
    page = no_script_page
    add_user("alice")
    log_in(page)
    page.goto("/admin/posts/new")
    assert page.locator("#editor-toolbar").is_hidden()

    page.get_by_label("Title").fill("Plain form")
    page.get_by_label("Body").fill("Written *without* script.")
    page.get_by_role("button", name="Preview", exact=True).click()
    assert page.locator("#live-preview em").inner_text() == "without"

    picture = tmp_path / "diagram.png"
    picture.write_bytes(png())
    page.locator("input[type=file][name=image]").set_input_files(str(picture))
    page.get_by_label("Alt text", exact=True).fill("A diagram")
    page.get_by_role("button", name="Upload image").click()
    assert "![A diagram](/uploads/" in body_text(page)

    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url("**/edit")
    page.goto("/plain-form/")
    assert page.locator(".post-body em").inner_text() == "without"
    assert page.locator(".post-body img").get_attribute("alt") == "A diagram"


def test_the_media_library_uploads_searches_and_deletes(page, add_user, tmp_path):
    add_user("alice")
    log_in(page)
    picture = tmp_path / "lighthouse at dusk.png"
    picture.write_bytes(png(1000, 600))
    page.goto("/admin/media/")
    page.get_by_label("Image file").set_input_files(str(picture))
    page.get_by_label("Alt text").fill("A lighthouse at dusk")
    page.get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url("**/admin/media/")

    item = page.locator(".media-item")
    assert item.count() == 1
    assert item.locator("img").get_attribute("alt") == "A lighthouse at dusk"
    assert item.locator("img").evaluate("image => image.naturalWidth") > 0
    page.get_by_label("Search media").fill("dusk")
    page.get_by_role("button", name="Search media").click()
    assert page.locator(".media-item").count() == 1

    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Delete lighthouse at dusk").click()
    page.wait_for_selector(".media-item", state="detached")
    assert questions == ["Delete lighthouse at dusk for good? No post shows it."]
    assert "Deleted: lighthouse" in page.content()
