"""Atom feeds of posts: one renderer for the site, author and plugin feeds. Feed readers
polling an unchanged feed get a 304, as for every public page (blog/caching.py)."""

from flask import current_app, make_response, render_template

FEED_LENGTH = 20


def atom_response(posts: list, title: str, self_path: str, alternate_path: str):
    """The Atom document for `posts` (newest first)."""
    updated = max((post.updated_at for post in posts), default=None)
    site = current_app.config["SITE"]["url"]
    xml = render_template(
        "posts/feed.xml",
        posts=posts,
        updated=updated,
        title=title,
        self_url=site + self_path,
        alternate_url=site + alternate_path,
    )
    response = make_response(xml)
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return response
