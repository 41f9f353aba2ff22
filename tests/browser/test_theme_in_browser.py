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


def test_a_menu_items_own_items_open_for_the_mouse_and_the_keyboard(page, app, add_user):
    from blog import menus
    from blog.database import db
    from blog.editing import PostData, save_post
    from blog.models import User

    with app.app_context():
        ann = db.session.get(User, add_user("ann", role="admin"))
        about = save_post(PostData(title="About", type="page", status="published"), ann)
        team = save_post(
            PostData(title="Team", type="page", status="published", parent_id=about.id), ann
        )
        top = menus.append(about, "")
        menus.append(team, "", under=top)
        db.session.commit()
    page.goto("/")
    nav = page.locator(".site-nav")
    team_link = nav.get_by_role("link", name="Team")
    assert team_link.is_hidden()

    nav.get_by_role("link", name="About").hover()
    assert team_link.is_visible()
    page.mouse.move(0, 0)
    assert team_link.is_hidden()

    nav.get_by_role("link", name="About").focus()
    page.keyboard.press("Tab")  # the next stop is the item under it
    assert page.evaluate("document.activeElement.textContent") == "Team"
    assert team_link.is_visible()
    page.keyboard.press("Enter")
    page.wait_for_url("**/about/team/")


def test_on_a_touch_screen_the_items_are_always_shown(new_tab, app, add_user):
    from blog import menus
    from blog.database import db
    from blog.editing import PostData, save_post
    from blog.models import User

    with app.app_context():
        ann = db.session.get(User, add_user("ann", role="admin"))
        about = save_post(PostData(title="About", type="page", status="published"), ann)
        top = menus.append(about, "")
        menus.append("https://example.org/", "Friends", under=top)
        db.session.commit()
    phone = new_tab(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 800})
    phone.goto("/")
    assert phone.locator(".site-nav").get_by_role("link", name="Friends").is_visible()
