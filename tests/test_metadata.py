"""Every public page describes itself to search engines and social cards, from its fields."""

import json
import re
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.plugins("categories")


class HeadReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta, self.links, self.json_ld, self._in_ld = {}, {}, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("name" in attrs or "property" in attrs):
            self.meta.setdefault(attrs.get("name") or attrs["property"], attrs.get("content"))
        if tag == "link" and "rel" in attrs:
            self.links.setdefault(attrs["rel"], attrs.get("href"))
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(json.loads(data))
            self._in_ld = False


def head_of(client, path) -> HeadReader:
    reader = HeadReader()
    reader.feed(client.get(path).text)
    return reader


@pytest.mark.parametrize("path", ["/", "/?page=2", "/hello-world/", "/category/news/"])
def test_every_public_page_has_description_canonical_and_cards(app, client, add_post, path):
    app.config["SITE"]["posts_per_page"] = 1
    add_post("Older", categories=["News"])
    add_post("Hello world", body="Words *about* things.", categories=["News"])

    head = head_of(client, path)

    assert head.meta["description"]
    assert head.links["canonical"] == "http://blog.test" + path
    for key in ("og:title", "og:description", "og:url", "og:type", "og:site_name",
                "twitter:card", "twitter:title", "twitter:description"):  # fmt: skip
        assert head.meta.get(key), key


def test_a_post_page_describes_the_post_with_json_ld(client, add_post, add_user):
    add_user("bob", display_name="Bob Smith")
    add_post("Hello world", body="Words *about* things.", author="bob", categories=["News"])

    head = head_of(client, "/hello-world/")
    (data,) = head.json_ld

    assert head.meta["og:type"] == "article"
    assert head.meta["og:title"] == "Hello world"
    assert head.meta["description"] == "Words about things."
    assert head.meta["article:author"] == "Bob Smith"
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Hello world"
    assert data["author"] == {"@type": "Person", "name": "Bob Smith"}
    assert data["mainEntityOfPage"] == "http://blog.test/hello-world/"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", data["datePublished"])


def test_json_ld_cannot_be_broken_out_of_by_a_title(client, add_post):
    add_post("</script><script>alert(1)</script>", slug="escape")

    page = client.get("/escape/").text
    block = page.partition('type="application/ld+json">')[2].partition("</script>")[0]

    assert "<script>alert" not in page
    assert json.loads(block)["headline"] == "</script><script>alert(1)</script>"


@pytest.mark.plugins("categories", "comments")
@pytest.mark.config(SITE={"title": "Le Blog", "url": "http://blog.test", "language": "fr-CA"})
def test_pages_and_feeds_say_what_language_the_site_writes_in(client, add_post):
    import feedparser

    add_post("Bonjour", body="Un billet en français.", categories=["Nouvelles"])

    page = client.get("/bonjour/").text
    head = head_of(client, "/bonjour/")
    feeds = [client.get(path).text for path in ("/feed/", "/category/nouvelles/feed/")]

    assert page.startswith('<!doctype html>\n<html lang="fr-CA">')
    assert head.meta["og:locale"] == "fr_CA"
    assert head.json_ld[0]["inLanguage"] == "fr-CA"
    for feed in feeds:
        assert feedparser.parse(feed).feed.language == "fr-CA"


def test_an_english_site_by_default(client, add_post):
    add_post("Hello")

    assert '<html lang="en">' in client.get("/hello/").text
    assert "og:locale" not in head_of(client, "/hello/").meta  # no region, no locale
