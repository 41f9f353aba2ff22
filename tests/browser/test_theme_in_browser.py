"""The theme in Chromium: the reader's dark setting, paper, and a lost reader's search."""

import pytest

pytestmark = pytest.mark.plugins("categories")


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_the_theme_follows_the_readers_dark_setting(page, add_post):
    add_post("Night reading")
    page.goto("/night-reading/")
    light = background(page)

    page.emulate_media(color_scheme="dark")

    assert background(page) != light
    assert background(page) == "rgb(23, 24, 27)"


def test_printing_keeps_the_article_and_writes_out_links(page, add_post):
    add_post("On paper", body="See [the source](https://example.org/report) for more.")
    page.goto("/on-paper/")
    assert page.locator(".site-nav").is_visible()

    page.emulate_media(media="print")

    assert page.locator(".site-nav").is_hidden()
    assert page.locator(".search-form").is_hidden()
    assert page.locator("article.post h1").is_visible()
    after = page.evaluate(
        "getComputedStyle(document.querySelector('.post-body a'), '::after').content"
    )
    assert "https://example.org/report" in after


def test_a_lost_reader_searches_from_the_not_found_page(page, add_post):
    add_post("Harbour lights", body="The lights are back.")

    response = page.goto("/harbor-lights-2019/")

    assert response.status == 404
    assert page.get_by_role("link", name="Harbour lights").is_visible()  # suggested
    box = page.locator("#not-found-q")
    box.fill("lights")
    box.press("Enter")
    page.wait_for_url("**/search?q=lights")
    assert page.locator(".search-result mark").first.inner_text().lower() == "lights"
