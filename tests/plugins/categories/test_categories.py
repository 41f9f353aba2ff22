"""Categories: the category page, links on posts and in the navigation, and the off switch."""

import pytest

from blog.database import db
from blog.models import Category
from plugins.categories.views import navigation_categories

pytestmark = pytest.mark.plugins("categories")


def describe(app, name, description):
    with app.app_context():
        category = db.session.scalar(db.select(Category).where(Category.name == name))
        category.description = description
        db.session.commit()


def test_category_page_lists_its_published_posts_with_the_description(app, client, add_post):
    add_post("Iraq talks", categories=["World News"])
    add_post("Bank cards", categories=["Money"])
    add_post("Unfinished", categories=["World News"], status="draft")
    describe(app, "World News", "News from <everywhere>.")

    page = client.get("/category/world-news/")

    assert page.status_code == 200
    assert "<h1>World News</h1>" in page.text
    assert "News from &lt;everywhere&gt;." in page.text
    assert "Iraq talks" in page.text
    assert "Bank cards" not in page.text and "Unfinished" not in page.text


def set_parent(app, child, parent):
    with app.app_context():
        named = {c.name: c for c in db.session.scalars(db.select(Category))}
        named[child].parent_id = named[parent].id
        db.session.commit()


def test_a_category_lists_its_child_categories_posts_once_each_in_page_and_feed(
    app, client, add_post
):
    add_post("Region story", categories=["World News"])
    add_post("Country story", categories=["Middle East"])
    add_post("City story", categories=["Baghdad"])
    add_post("Filed twice", categories=["World News", "Middle East"])
    add_post("Elsewhere", categories=["Money"])
    set_parent(app, "Middle East", "World News")
    set_parent(app, "Baghdad", "Middle East")

    page = client.get("/category/world-news/").text
    feed = client.get("/category/world-news/feed/").text
    child = client.get("/category/middle-east/").text

    for listing in (page, feed):
        for title in ("Region story", "Country story", "City story"):
            assert title in listing
        assert listing.count("Filed twice</") == 1
        assert "Elsewhere" not in listing
    assert "Region story" not in child and "City story" in child  # down, never up


def test_a_loop_of_parents_still_answers(app, client, add_post):
    add_post("Looped", categories=["Alpha"])
    add_post("Other", categories=["Beta"])
    set_parent(app, "Alpha", "Beta")
    set_parent(app, "Beta", "Alpha")  # as a database edited by hand may hold

    page = client.get("/category/alpha/").text

    assert "Looped" in page and "Other" in page


def test_a_category_cannot_be_put_under_its_own_descendant(app, client, auth, add_post):
    add_post("Story", categories=["World News", "Middle East"])
    set_parent(app, "Middle East", "World News")
    with app.app_context():
        ids = dict(db.session.execute(db.select(Category.name, Category.id)).all())
    auth.login()

    editor = client.get(f"/admin/categories/{ids['World News']}/").text
    response = client.post(f"/admin/categories/{ids['World News']}/",
                           data={"name": "World News", "parent": ids["Middle East"]})  # fmt: skip

    assert f'value="{ids["Middle East"]}"' not in editor
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Category, ids["World News"]).parent_id is None


def test_category_page_paginates(app, client, add_post):
    app.config["SITE"]["posts_per_page"] = 2
    for number in range(3):
        add_post(f"Story {number}", categories=["News"])

    first, second = client.get("/category/news/").text, client.get("/category/news/?page=2").text

    assert "Story 2" in first and "Story 1" in first and "Story 0" not in first
    assert 'rel="next" href="/category/news/?page=2"' in first
    assert "Story 0" in second
    assert client.get("/category/news/?page=3").status_code == 404


def test_unknown_category_is_404(client):
    assert client.get("/category/nothing-here/").status_code == 404


def test_posts_link_their_categories(client, add_post):
    add_post("Filed twice", categories=["World News", "Middle East"])

    post_page, home = client.get("/filed-twice/").text, client.get("/").text

    for page in (post_page, home):
        meta = page.partition('class="post-categories"')[2].partition("</p>")[0]
        assert '<a href="/category/middle-east/" rel="category tag">Middle East</a>' in meta
        assert '<a href="/category/world-news/" rel="category tag">World News</a>' in meta


def test_navigation_shows_the_categories_with_most_published_posts(app, client, add_post):
    app.config["PLUGINS"]["categories"] = {"nav_limit": 2}
    add_post("One", categories=["Astronomy"])
    add_post("Two", categories=["World News", "Botany"])
    add_post("Three", categories=["World News", "Botany"])
    add_post("Four", categories=["World News"])
    for n in range(4):
        add_post(f"Hidden {n}", categories=["Alchemy"], status="draft")

    nav = client.get("/").text.partition('class="site-nav"')[2].partition("</nav>")[0]

    # Before, the first A to Z: a news blog's "World News" was missing from its navigation.
    assert nav.index(">World News<") < nav.index(">Botany<")
    assert ">Astronomy<" not in nav and ">Alchemy<" not in nav
    with app.app_context():
        names = [category.name for category in navigation_categories(5)]
    assert names == ["World News", "Botany", "Astronomy"]


@pytest.mark.plugins()
def test_no_category_pages_or_links_when_switched_off(client, add_post):
    add_post("Filed", categories=["World News"])

    assert client.get("/category/world-news/").status_code == 404
    assert "post-categories" not in client.get("/filed/").text
    assert "/category/" not in client.get("/").text


def test_category_page_runs_the_same_queries_for_3_or_30_posts(
    app, client, add_post, count_queries
):
    def queries_for_category_page():
        client.get("/category/news/")  # warm up: the first request loads the user, etc.
        with count_queries() as counter:
            assert client.get("/category/news/").status_code == 200
        return counter.count

    for number in range(3):
        add_post(f"Story {number}", categories=["News", f"Other {number}"])
    few = queries_for_category_page()
    for number in range(3, 30):
        add_post(f"Story {number}", categories=["News", f"Other {number}"])
    many = queries_for_category_page()

    assert few == many <= 6
