"""The Import/Export page in a real browser: upload, the progress line, the summary."""

import pytest

from tests.browser.test_editor_in_browser import log_in
from tests.conftest import shared_file

pytestmark = pytest.mark.plugins("categories", "comments")


def test_upload_a_wordpress_export_and_read_the_summary(page, add_user):
    export = shared_file("fixtures", "wordpress-seed.xml")
    add_user("alice")
    log_in(page)
    page.get_by_role("link", name="Import/Export").click()

    page.get_by_label("WordPress export file").set_input_files(str(export))
    page.get_by_role("button", name="Import").click()

    page.get_by_role("heading", name="Import finished").wait_for()
    log = page.locator(".import-log p:visible")
    assert log.count() == 1  # each progress line replaces the one before
    assert log.inner_text() == "4 of 4 posts and pages, 5 comments…"
    summary = page.locator(".import-summary li").all_inner_texts()
    assert "posts: 4 created" in summary and "comments: 5 created" in summary
    page.goto("/iraq-hosts-both-u-s-and-iranian-backed-forces-its-getting-tense/")
    assert page.locator("h1").inner_text().startswith("Iraq Hosts Both U.S.")


def test_a_bad_file_is_explained_on_the_form(page, add_user, tmp_path):
    bad = tmp_path / "not-wordpress.xml"
    bad.write_text("<html><body>hello</body></html>")
    add_user("alice")
    log_in(page)
    page.goto("/admin/import-export")

    page.get_by_label("WordPress export file").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()

    error = page.locator(".errors li")
    error.wait_for()
    assert "expected an <rss> document" in error.inner_text()
    assert "Nothing was imported" in error.inner_text()
