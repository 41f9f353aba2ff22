"""Feeds for the site and every list (categories, tags, authors, months, years, a post's
comments): Atom and its JSON Feed twin, complete, parseable, cacheable, announced."""

import json
import re
import xml.etree.ElementTree as ET

import feedparser
import jsonfeed
import pytest

ATOM = "{http://www.w3.org/2005/Atom}"
pytestmark = pytest.mark.plugins("categories")
FEEDS = ["/feed/", "/category/world-news/feed/", "/author/ada/feed/", "/tag/machines/feed/"]


@pytest.fixture
def posts(add_post, add_user):
    add_user("ada", display_name="Ada Lovelace")
    add_post(
        "Engines", body="On *engines*.", categories=["World News"], tags=["machines"], author="ada"
    )
    add_post(
        "Looms",
        body="On looms & cards.",
        categories=["World News"],
        tags=["machines"],
        author="ada",
    )
    add_post("Hidden", status="draft", categories=["World News"], tags=["machines"], author="ada")


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_parse_cleanly_and_carry_every_required_atom_element(client, posts, path):
    response = client.get(path)
    parsed = feedparser.parse(response.data)
    root = ET.fromstring(response.data)

    assert response.status_code == 200
    assert response.content_type.startswith("application/atom+xml")
    assert not parsed.bozo, parsed.get("bozo_exception")
    for element in ("id", "title", "updated", "author"):
        assert root.find(ATOM + element) is not None, element
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://blog.test" + path
    entries = root.findall(ATOM + "entry")
    assert [entry.findtext(ATOM + "title") for entry in entries] == ["Looms", "Engines"]
    for entry in entries:
        for element in ("id", "title", "updated", "author/" + ATOM + "name", "content"):
            assert entry.find(ATOM + element) is not None, element
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
    assert "<em>engines</em>" in parsed.entries[1].content[0].value


@pytest.mark.parametrize("path", FEEDS)
def test_feed_readers_get_304_for_an_unchanged_feed(client, posts, path):
    first = client.get(path)

    by_etag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})

    assert by_etag.status_code == 304 and by_etag.data == b""
    assert by_date.status_code == 304


def test_a_new_post_changes_the_feed(client, posts, add_post):
    etag = client.get("/feed/").headers["ETag"]
    add_post("Numbers", author="ada")

    assert client.get("/feed/", headers={"If-None-Match": etag}).status_code == 200


def test_author_page_lists_their_published_posts_and_links_the_feed(client, posts, add_post):
    add_post("Someone else's", author="bob")

    page = client.get("/author/ada/").text

    assert "<h1>Posts by Ada Lovelace</h1>" in page
    assert "Engines" in page and "Looms" in page
    assert "Hidden" not in page and "Someone else" not in page
    assert 'href="/author/ada/feed/"' in page
    assert client.get("/author/nobody/").status_code == 404
    assert client.get("/author/nobody/feed/").status_code == 404


def test_posts_link_to_their_author_page(client, posts):
    assert 'href="/author/ada/" rel="author">Ada Lovelace</a>' in client.get("/engines/").text


@pytest.mark.plugins()
def test_no_category_feed_without_the_plugin(client, posts):
    assert client.get("/category/world-news/feed/").status_code == 404


def test_tag_pages_list_published_posts_with_the_tag(client, add_post):
    add_post("Tagged", tags=["Steam Engines"])
    add_post("Tagged draft", tags=["Steam Engines"], status="draft")
    add_post("Untagged")

    page = client.get("/tag/steam-engines/").text
    post_page = client.get("/tagged/").text

    assert "Posts tagged “Steam Engines”" in page
    assert "Tagged" in page and "Tagged draft" not in page and "Untagged" not in page
    assert '<a href="/tag/steam-engines/" rel="tag">#Steam Engines</a>' in post_page
    assert client.get("/tag/nothing/").status_code == 404
    assert "http://blog.test/tag/steam-engines/" in client.get("/sitemap.xml").text


def test_pages_have_a_favicon(client):
    assert 'rel="icon" href="/static/favicon.svg?v=' in client.get("/").text
    with client.get("/static/favicon.svg") as icon:  # a file response: close it
        assert icon.status_code == 200


def test_relative_links_in_posts_resolve_against_the_site(client, add_post):
    add_post("Picture post", body="![A harbour](/uploads/2026/11/harbour.jpg) [more](/about/)")

    entry = feedparser.parse(client.get("/feed/").data).entries[0]

    assert 'src="http://blog.test/uploads/2026/11/harbour.jpg"' in entry.content[0].value
    assert 'href="http://blog.test/about/"' in entry.content[0].value


@pytest.mark.plugins("categories", "comments", comments={"min_seconds": 0})
def test_control_characters_never_make_a_feed_ill_formed(app, client, add_user, add_post):
    """XML 1.0 cannot carry ESC or a form feed at all: the feeds leave them out."""
    from blog.database import db
    from plugins.comments.models import Comment
    from tests.plugins.comments.helpers import post_comment

    add_user("ada", display_name="Ada\x1b Lovelace")
    post_id = add_post("Escape\x1b[31m red\x0c", body="Bell\x07 and NUL", author="ada",
                       categories=["World\x1b News"], tags=["machines\x1b"])  # fmt: skip
    post_comment(client, post_id, "escape-31m-red", name="Ann\x1b", body="Hi\x1b there\x0b")
    with app.app_context():
        db.session.execute(db.update(Comment).values(status="approved"))
        db.session.commit()
    feeds = [*FEEDS, "/comments/escape-31m-red/feed/", "/sitemap.xml"]

    for path in feeds:
        response = client.get(path)
        assert response.status_code == 200, path
        ET.fromstring(response.data)  # well formed, or it raises
        assert b"\x1b" not in response.data and b"\x0c" not in response.data, path
        if path.endswith("/feed/"):
            twin = client.get(path + "json/")
            json.loads(twin.data)
            assert b"\x1b" not in twin.data and b"\\u001b" not in twin.data, path
    assert "Escape[31m red" in client.get("/feed/").text
    assert "Hi there" in client.get("/comments/escape-31m-red/feed/").text


@pytest.mark.plugins("comments", comments={"min_seconds": 0, "moderation": "none"})
def test_control_characters_typed_into_forms_are_dropped(app, writer):
    """Every form's text fields drop them (blog/forms.py Form), the plugins' too."""
    from blog.database import db
    from blog.models import Post
    from plugins.comments.models import Comment
    from tests.plugins.comments.helpers import post_comment

    writer.post("/admin/posts/new", data={
        "title": "Bell\x07 and \x1bescape", "body": "Form\x0cfeed", "publish": "1"})  # fmt: skip
    with app.app_context():
        post = db.session.scalar(db.select(Post))
        title, body, post_id = post.title, post.body, post.id
    post_comment(app.test_client(), post_id, post.slug, name="Ann\x1b", body="Hi\x0b there")
    with app.app_context():
        comment = db.session.scalar(db.select(Comment))

    assert (title, body) == ("Bell and escape", "Formfeed")
    assert (comment.author_name, comment.body) == ("Ann", "Hi there")


def archive_feeds(client) -> list[str]:
    """The month's and the year's feeds of the posts just made (the site's calendar)."""
    month = re.search(r'href="(/\d{4}/\d{2}/)"', client.get("/archive/").text).group(1)
    return [f"{month}feed/", f"{month[:6]}feed/"]


def every_feed(client) -> list[str]:
    return [*FEEDS, *archive_feeds(client)]


def json_feed(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.content_type == "application/feed+json; charset=utf-8"
    return json.loads(response.data)


def test_every_atom_feed_has_a_json_feed_twin_with_the_same_entries(client, posts):
    for path in every_feed(client):
        atom = feedparser.parse(client.get(path).data)
        twin = json_feed(client, path + "json/")
        parsed = jsonfeed.Feed.parse_string(client.get(path + "json/").text)

        assert [item.title for item in parsed.items] == ["Looms", "Engines"]
        assert twin["version"] == "https://jsonfeed.org/version/1.1"
        assert twin["feed_url"] == f"http://blog.test{path}json/"
        assert twin["home_page_url"] == atom.feed.link
        assert twin["title"] == atom.feed.title
        assert [item["id"] for item in twin["items"]] == [entry.id for entry in atom.entries]
        assert [item["title"] for item in twin["items"]] == ["Looms", "Engines"]
        for item in twin["items"]:
            assert item["url"] == item["id"] and item["content_html"]
            assert item["authors"] == [{"name": "Ada Lovelace"}]
            assert item["date_published"].endswith("Z")
            assert "World News" in item["tags"]


def test_every_feed_route_has_its_twin(app):
    """A feed added without add_feed would have no JSON twin: none is."""
    with app.app_context():
        rules = {rule.rule for rule in app.url_map.iter_rules()}
    atom = {rule for rule in rules if rule.endswith("/feed/")}
    assert len(atom) >= 6
    assert {rule for rule in atom if rule + "json/" not in rules} == set()


def test_each_list_announces_both_feeds_in_its_head(client, posts):
    month, year = archive_feeds(client)
    pages = {
        "/": "/feed/",
        "/category/world-news/": "/category/world-news/feed/",
        "/author/ada/": "/author/ada/feed/",
        "/tag/machines/": "/tag/machines/feed/",
        month.removesuffix("feed/"): month,
        year.removesuffix("feed/"): year,
    }
    for page, feed in pages.items():
        head = client.get(page).text.partition("</head>")[0]
        assert re.search(rf'type="application/atom\+xml" title="[^"]+" href="{feed}"', head), page
        assert re.search(
            rf'type="application/feed\+json" title="[^"]+" href="{feed}json/"', head
        ), page


def test_a_tag_feed_holds_the_tags_published_posts_only(client, posts, add_post):
    add_post("Untagged", categories=["World News"], author="ada")
    titles = [
        entry.title for entry in feedparser.parse(client.get("/tag/machines/feed/").data).entries
    ]
    assert titles == ["Looms", "Engines"]
    assert client.get("/tag/no-such-tag/feed/").status_code == 404
    assert client.get("/tag/no-such-tag/feed/json/").status_code == 404
    assert client.get("/1999/feed/").status_code == 404  # no posts then


def test_feeds_carry_the_whole_post_as_the_page_shows_it(client, add_post):
    body = (
        "Energy $E=mc^2$.\n\n## A heading\n\n```python\nx = 1\n```\n\n"
        "![A harbour](/uploads/2026/11/harbour.jpg) [more](/about/)"
    )
    add_post("Technical", body=body, slug="technical")
    page = client.get("/technical/").text
    atom = feedparser.parse(client.get("/feed/").data).entries[0].content[0].value
    item = json_feed(client, "/feed/json/")["items"][0]["content_html"]

    for content in (atom, item):
        assert '<span class="tok-n">x</span>' in content and '<span class="tok-n">x</span>' in page
        assert "<msup><mi>c</mi><mn>2</mn></msup>" in content
        # Readers away from the page still reach the heading and the pictures.
        assert 'href="http://blog.test/technical/#a-heading"' in content
        assert 'src="http://blog.test/uploads/2026/11/harbour.jpg"' in content
        assert 'href="http://blog.test/about/"' in content


@pytest.mark.plugins("comments", comments={"min_seconds": 0})
def test_the_comment_feed_has_its_twin_too(app, client, add_post):
    from blog.database import db
    from plugins.comments.models import Comment

    post_id = add_post("Talk", slug="talk")
    with app.app_context():
        db.session.add(
            Comment(
                post_id=post_id, author_name="Sam", author_email="s@example.com",
                body="Hi *there*", body_html="<p>Hi <em>there</em></p>", status="approved",
            )
        )  # fmt: skip
        db.session.commit()
    twin = json_feed(client, "/comments/talk/feed/json/")
    assert twin["home_page_url"] == "http://blog.test/talk/#comments"
    assert [item["content_html"] for item in twin["items"]] == ["<p>Hi <em>there</em></p>"]
    assert twin["items"][0]["url"] == "http://blog.test/talk/#comment-1"


def test_a_search_has_its_feeds_too(client, posts, add_post):
    add_post("Other", body="Nothing alike.", author="ada")
    page = client.get("/search?q=looms").text.partition("</head>")[0]
    assert 'href="/search/feed/?q=looms"' in page
    assert 'href="/search/feed/json/?q=looms"' in page

    atom = client.get("/search/feed/?q=looms&utm_source=x")
    parsed = feedparser.parse(atom.data)
    assert [entry.title for entry in parsed.entries] == ["Looms"]
    root = ET.fromstring(atom.data)
    assert (
        root.find(f"{ATOM}link[@rel='self']").get("href") == "http://blog.test/search/feed/?q=looms"
    )
    twin = json_feed(client, "/search/feed/json/?q=looms")
    assert twin["feed_url"] == "http://blog.test/search/feed/json/?q=looms"
    assert [item["title"] for item in twin["items"]] == ["Looms"]
    assert client.get("/search/feed/").status_code == 404
    assert client.get("/search/feed/json/?q=").status_code == 404


@pytest.mark.plugins("comments")
def test_a_posts_page_announces_its_comments_feeds(client, add_post):
    add_post("Talk", slug="talk")
    add_post("Quiet", slug="quiet", status="draft")
    head = client.get("/talk/").text.partition("</head>")[0]
    assert 'type="application/atom+xml" title="Comments on “Talk”' in head
    assert 'href="/comments/talk/feed/"' in head and 'href="/comments/talk/feed/json/"' in head
    assert "Comments on" not in client.get("/").text.partition("</head>")[0]
