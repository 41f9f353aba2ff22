"""Public pages: home, a post, drafts hidden, error pages, the feed, and the reference post."""

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from tests.conftest import shared_file


def test_home_lists_published_posts_newest_first_with_excerpts(client, add_post):
    add_post("First post", body="The opening words of the first.")
    add_post("Second post", body="The opening words of the second.")

    page = client.get("/").text

    assert page.index("Second post") < page.index("First post")
    assert "The opening words of the second." in page
    assert "<title>My Blog</title>" in page


def test_home_paginates(app, client, add_post):
    app.config["SITE"]["posts_per_page"] = 2
    for number in range(5):
        add_post(f"Post number {number}")

    first, third = client.get("/").text, client.get("/?page=3").text

    assert "Post number 4" in first and "Post number 2" not in first
    assert 'rel="next" href="/?page=2"' in first
    assert "Post number 0" in third and 'rel="prev"' in third
    assert client.get("/?page=4").status_code == 404
    assert client.get("/?page=0").status_code == 404


def test_empty_home_says_so(client):
    assert "Nothing published yet." in client.get("/").text


def test_post_page_shows_title_author_date_and_body(client, add_post, add_user):
    add_user("bob", display_name="Bob Smith")
    add_post("A walk in the hills", body="We *walked*.", author="bob")

    response = client.get("/a-walk-in-the-hills/")

    assert response.status_code == 200
    assert '<article class="post">' in response.text
    assert "<h1>A walk in the hills</h1>" in response.text
    assert '<div class="post-body"><p>We <em>walked</em>.</p>' in response.text
    assert "Bob Smith" in response.text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">', response.text)
    assert "<title>A walk in the hills – My Blog</title>" in response.text


def test_post_address_without_slash_redirects(client, add_post):
    add_post("Hello")

    response = client.get("/hello")

    assert response.status_code == 301
    assert response.headers["Location"].endswith("/hello/")


def test_drafts_are_invisible_to_visitors(client, add_post):
    add_post("Secret plans", status="draft")

    assert client.get("/secret-plans/").status_code == 404
    assert "Secret plans" not in client.get("/").text
    assert "Secret plans" not in client.get("/feed/").text


def test_a_draft_shows_to_those_who_may_edit_it(client, auth, add_post, add_user):
    add_post("Secret plans", status="draft", author="alice")
    add_user("eve", role="author")

    auth.login("alice")
    assert "This post is a draft" in client.get("/secret-plans/").text
    auth.logout()
    auth.login("eve")
    assert client.get("/secret-plans/").status_code == 404


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-post/")

    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'class="site-title"' in response.text


@pytest.mark.config(PROPAGATE_EXCEPTIONS=False)  # as in production, where TESTING is off
def test_a_crash_is_a_friendly_500(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = client.get("/boom")

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "kaboom" not in response.text


def test_feed_is_atom_with_full_content(client, add_post):
    add_post("Feed me", body="Full *content* here.")

    response = client.get("/feed/")
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}

    assert response.content_type.startswith("application/atom+xml")
    entry = root.find("a:entry", ns)
    assert entry.find("a:title", ns).text == "Feed me"
    assert entry.find("a:id", ns).text == "http://blog.test/feed-me/"
    assert "<em>content</em>" in entry.find("a:content", ns).text
    assert root.find("a:link[@rel='self']", ns).get("href") == "http://blog.test/feed/"


class TextCollector(HTMLParser):
    """The text of a page's <div class="post-body">, one entry per paragraph."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.paragraphs = []

    def handle_starttag(self, tag, attrs):
        if self.depth or ("class", "post-body") in attrs:
            self.depth += 1
        if self.depth and tag == "p":
            self.paragraphs.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth and self.paragraphs:
            self.paragraphs[-1] += data


def reference_article():
    """Title and paragraphs of the reference page's article."""
    text = shared_file("reference", "seed-post.txt").read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = lines[2]
    paragraphs = lines[3 : lines.index("Related posts")]
    return title, paragraphs


@pytest.mark.plugins("categories")
def test_reference_post_renders_completely(client, add_post):
    title, paragraphs = reference_article()
    add_post(title, body="\n\n".join(paragraphs), categories=["World News"])

    page = client.get("/iraq-hosts-both-u-s-and-iranian-backed-forces-its-getting-tense/").text
    collector = TextCollector()
    collector.feed(page)

    assert f"<h1>{title}</h1>" in page  # the apostrophe stays typographic: ’
    assert [paragraph.strip() for paragraph in collector.paragraphs] == paragraphs
    assert '<p class="site-title"><a href="/" rel="home">My Blog</a></p>' in page
    assert re.search(
        r'class="post-categories">.*<a href="/category/world-news/"[^>]*>World News</a>', page
    )


def test_pages_carry_security_headers(client):
    headers = client.get("/").headers

    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
