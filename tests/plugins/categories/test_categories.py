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


def test_navigation_shows_categories_with_published_posts_a_to_z(app, client, add_post):
    app.config["PLUGINS"]["categories"] = {"nav_limit": 2}
    add_post("One", categories=["Zoology"])
    add_post("Two", categories=["Botany", "Astronomy"])
    add_post("Hidden", categories=["Alchemy"], status="draft")

    nav = client.get("/").text.partition('class="site-nav"')[2].partition("</nav>")[0]

    assert nav.index(">Astronomy<") < nav.index(">Botany<")
    assert ">Zoology<" not in nav and ">Alchemy<" not in nav
    with app.app_context():
        names = [category.name for category in navigation_categories(5)]
    assert names == ["Astronomy", "Botany", "Zoology"]


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
