"""Monthly and yearly archives at WordPress's addresses, and the list of months."""

from datetime import datetime

import pytest

from blog.database import db
from blog.models import Post


@pytest.fixture
def dated(app, add_post):
    """Posts published in three months of two years (and a draft that must not count)."""
    dates = {
        "Winter one": datetime(2025, 12, 3, 9),
        "Winter two": datetime(2025, 12, 31, 23, 59),
        "New year": datetime(2026, 1, 1, 0, 0),
        "Spring": datetime(2026, 4, 15, 12),
    }
    add_post("Unsent", status="draft")
    for title, when in dates.items():
        post_id = add_post(title)
        with app.app_context():
            db.session.get(Post, post_id).published_at = when
            db.session.commit()


def listed(response) -> list[str]:
    import re

    return re.findall(r"<h2><a href=\"/[^\"]+/\">([^<]+)</a></h2>", response.text)


def test_a_month_lists_its_posts_newest_first(client, dated):
    response = client.get("/2025/12/")

    assert response.status_code == 200
    assert "<h1>Posts from December 2025</h1>" in response.text
    assert listed(response) == ["Winter two", "Winter one"]
    assert listed(client.get("/2026/01/")) == ["New year"]


def test_a_year_lists_its_posts(client, dated):
    assert listed(client.get("/2026/")) == ["Spring", "New year"]
    assert "<h1>Posts from 2026</h1>" in client.get("/2026/").text


@pytest.mark.parametrize("path", ["/2026/02/", "/2026/13/", "/2026/0/", "/1999/", "/0/", "/10000/"])
def test_empty_or_impossible_months_are_not_found(client, dated, path):
    assert client.get(path).status_code == 404


def test_the_archive_lists_every_month_with_its_count(client, dated):
    page = client.get("/archive/").text

    assert page.index("2026") < page.index("2025")
    assert '<a href="/2025/12/">December</a> (2)' in page
    assert '<a href="/2026/04/">April</a> (1)' in page
    assert "February" not in page
    assert '<a href="/archive/">Archives</a>' in page  # linked from every page's footer


def test_digits_only_slugs_are_left_to_the_archives(app, writer):
    response = writer.post("/admin/posts/new", data={"title": "2024", "publish": "1"})
    with app.app_context():
        assert db.session.scalar(db.select(Post.slug)) == "2024-2"

    refused = writer.post("/admin/posts/new", data={"title": "x", "slug": "1999", "publish": "1"})
    assert refused.status_code == 422
    assert "is a year&#39;s archive" in refused.text
    assert response.status_code == 302
