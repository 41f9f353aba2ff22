"""Atom feeds of posts: one renderer for the site, author and plugin feeds. Feed readers
polling an unchanged feed get a 304, as for every public page (blog/caching.py)."""

import re

from flask import make_response, render_template

from blog.proxy import site_url

FEED_LENGTH = 20
ATOM = "application/atom+xml; charset=utf-8"
# Characters XML 1.0 cannot carry at all: one in a title or a comment (ESC, a form feed)
# made the whole feed ill-formed for every reader. The WordPress export leaves them out too.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_response(xml: str, content_type: str = ATOM):
    """An XML document (feed, sitemap) as a response, without what XML cannot carry."""
    response = make_response(NOT_XML.sub("", xml))
    response.headers["Content-Type"] = content_type
    return response


def atom_response(posts: list, title: str, self_path: str, alternate_path: str):
    """The Atom document for `posts` (newest first)."""
    updated = max((post.updated_at for post in posts), default=None)
    site = site_url()
    xml = render_template(
        "posts/feed.xml",
        posts=posts,
        updated=updated,
        title=title,
        self_url=site + self_path,
        alternate_url=site + alternate_path,
    )
    return xml_response(xml)
