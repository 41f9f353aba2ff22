"""Atom feeds of posts: one renderer for the site, author and plugin feeds, with
conditional GET so that feed readers polling an unchanged feed get a 304."""

import hashlib

from flask import current_app, make_response, render_template, request

FEED_LENGTH = 20


def atom_response(posts: list, title: str, self_path: str, alternate_path: str):
    """The Atom document for `posts` (newest first), or 304 if the reader has it."""
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
    response.set_etag(hashlib.sha256(xml.encode()).hexdigest()[:32])
    if updated:
        response.last_modified = updated
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)
