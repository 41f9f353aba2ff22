"""Feeds: every list of posts (or comments) as Atom at `<list>/feed/` and as JSON Feed 1.1
at `<list>/feed/json/`, both made from one `Feed`. A view that makes a Feed is registered
once, by `add_feed`, and gets both addresses; `feed_links` announces them in a page's head.
Feed readers polling an unchanged feed get a 304, as for every public page
(blog/caching.py).
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, current_app, make_response, render_template, request, url_for
from markupsafe import Markup

from blog.proxy import site_url

FEED_LENGTH = 20
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Characters XML 1.0 cannot carry at all: one in a title or a comment (ESC, a form feed)
# made the whole feed ill-formed for every reader. The WordPress export leaves them out too.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class Entry:
    """One item of a feed: a post, or a comment."""

    url: str  # absolute; also the entry's id
    title: str
    published: datetime  # UTC
    updated: datetime
    author: str
    content_html: str  # sanitised, as the page shows it
    summary: str = ""
    # (Not its tags: lists load the categories with the posts, and tags would cost a
    # query per entry.)
    categories: list[str] = field(default_factory=list)


@dataclass
class Feed:
    title: str
    page_path: str  # the HTML page the feed follows (its "alternate")
    entries: list[Entry]
    subtitle: str = ""
    query: str = ""  # part of the feed's own address (a search's "q=words"), if any


def post_entries(posts) -> list[Entry]:
    """Feed entries for posts (newest first): their whole body, as the page shows it."""
    base = site_url()
    return [
        Entry(
            url=f"{base}{url_for('posts.detail', slug=post.path)}",
            title=post.title,
            published=post.date,
            updated=post.updated_at,
            author=post.author.name,
            content_html=post.body_html,
            summary=post.summary,
            categories=[category.name for category in post.categories],
        )
        for post in posts
    ]


def posts_feed(posts, title: str, page_path: str) -> Feed:
    return Feed(title=title, page_path=page_path, entries=post_entries(posts))


# An address in an attribute that a reader of the feed, away from the page, cannot follow:
# a path on this site ("/uploads/x.png") or a place on the page ("#heading").
_PAGE_RELATIVE = re.compile(r'(\s(?:href|src)=")(/(?!/)|#)')
_SRCSET = re.compile(r'(\ssrcset=")([^"]*)"')


def absolute_links(body_html: str, page_url: str) -> str:
    """The body with its paths and in-page links made absolute, for readers elsewhere
    (feed readers), who have no page to resolve them against."""
    site = site_url()
    page_url = page_url.partition("#")[0]  # a comment's address names its place on the page

    def one(match: re.Match) -> str:
        attribute, start = match.groups()
        return attribute + (page_url + "#" if start == "#" else site + "/")

    def srcset(match: re.Match) -> str:
        candidates = [c.strip() for c in match.group(2).split(",")]
        made = [site + c if c.startswith("/") and not c.startswith("//") else c for c in candidates]
        return f'{match.group(1)}{", ".join(made)}"'

    return _SRCSET.sub(srcset, _PAGE_RELATIVE.sub(one, body_html))


def xml_response(xml: str, content_type: str = ATOM):
    """An XML document (feed, sitemap) as a response, without what XML cannot carry."""
    response = make_response(NOT_XML.sub("", xml))
    response.headers["Content-Type"] = content_type
    return response


def _utc(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def atom_response(feed: Feed, self_path: str):
    """The Atom document of `feed`."""
    site = site_url()
    # Plain strings: the template escapes the HTML, as type="html" content must be.
    entries = [(entry, absolute_links(entry.content_html, entry.url)) for entry in feed.entries]
    xml = render_template(
        "posts/feed.xml",
        feed=feed,
        entries=entries,
        updated=max((entry.updated for entry in feed.entries), default=None),
        self_url=site + self_path,
        alternate_url=site + feed.page_path,
    )
    return xml_response(xml)


def json_feed_response(feed: Feed, self_path: str):
    """The JSON Feed 1.1 document of `feed` (https://jsonfeed.org/version/1.1)."""
    site = site_url()
    settings = current_app.config["SITE"]
    document = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": site + feed.page_path,
        "feed_url": site + self_path,
        "language": settings["language"],
        "authors": [{"name": settings["title"]}],
        "items": [
            {
                "id": entry.url,
                "url": entry.url,
                "title": entry.title,
                "content_html": absolute_links(entry.content_html, entry.url),
                **({"summary": entry.summary} if entry.summary else {}),
                "date_published": _utc(entry.published),
                "date_modified": _utc(entry.updated),
                "authors": [{"name": entry.author}],
                **({"tags": entry.categories} if entry.categories else {}),
            }
            for entry in feed.entries
        ],
    }
    if feed.subtitle or settings.get("tagline"):
        document["description"] = feed.subtitle or settings["tagline"]
    response = make_response(json.dumps(document, ensure_ascii=False, indent=1))
    response.headers["Content-Type"] = JSON_FEED
    return response


JSON_SUFFIX = "json/"  # <list>/feed/json/, as WordPress puts its other kinds (/feed/rss2/)


def add_feed(bp: Blueprint, rule: str, endpoint: str, view: Callable[..., Feed]) -> None:
    """Serve `view`'s Feed at `rule` (ending in "/feed/") as Atom, endpoint `endpoint`, and
    at `rule` + "json/" as JSON Feed, endpoint `endpoint` + "_json"."""

    def own_address(feed: Feed) -> str:
        # Not the query it was asked with ("?utm_source=..."): the address is its id.
        return request.path + (f"?{feed.query}" if feed.query else "")

    def atom(**values):
        feed = view(**values)
        return atom_response(feed, own_address(feed))

    def json_feed(**values):
        feed = view(**values)
        return json_feed_response(feed, own_address(feed))

    atom.__doc__ = json_feed.__doc__ = view.__doc__
    bp.add_url_rule(rule, endpoint, atom)
    bp.add_url_rule(rule + JSON_SUFFIX, endpoint + "_json", json_feed)


def feed_links(title: str, endpoint: str, **values) -> Markup:
    """The <link>s that announce a list's two feeds in a page's head."""
    return Markup(
        '<link rel="alternate" type="application/atom+xml" title="{0}" href="{1}">\n'
        '  <link rel="alternate" type="application/feed+json" title="{0}" href="{2}">'
    ).format(title, url_for(endpoint, **values), url_for(endpoint + "_json", **values))
