"""Anonymous pages are the same for every reader: no cookie set, no visitor's own bytes,
so that any cache may keep them (the comment form carries no session token)."""

import re

import pytest

from blog.models import utcnow

pytestmark = pytest.mark.plugins(
    "categories", "related_posts", "comments", comments={"min_seconds": 0}
)
# The comment form's signed time: it says when the page was made, not for whom.
FORM_TIME = re.compile(r'name="started" type="hidden" value="[^"]+"')
NOW = utcnow()
PATHS = [
    "/", "/?page=2", "/rivers-3/", "/category/news/", "/tag/water/", "/author/alice/",
    f"/{NOW.year}/", f"/{NOW.year}/{NOW.month:02d}/", "/archive/", "/search?q=rivers",
    "/feed/", "/category/news/feed/", "/author/alice/feed/", "/comments/rivers-3/feed/",
    "/sitemap.xml", "/robots.txt", "/no-such-page/",
]  # fmt: skip


@pytest.fixture
def site(app, add_post):
    app.config["SITE"]["posts_per_page"] = 2
    for number in range(5):
        add_post(f"Rivers {number}", body="Boats on rivers.", categories=["News"], tags=["water"])
    return app


@pytest.mark.parametrize("path", PATHS)
def test_an_anonymous_page_sets_no_cookie_and_is_the_same_for_every_reader(site, path):
    one_reader, another = site.test_client(), site.test_client()

    first, second = one_reader.get(path), another.get(path)

    assert first.status_code in (200, 404)
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    assert FORM_TIME.sub("", first.text) == FORM_TIME.sub("", second.text)


def test_a_logged_in_reader_gets_a_form_with_the_session_token(site, auth, add_user):
    add_user("staff", role="editor")
    auth.login("staff")

    page = auth.client.get("/rivers-3/").text

    assert 'name="csrf_token"' in page
