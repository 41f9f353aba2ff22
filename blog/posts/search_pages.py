"""The search page, and the suggestions a 404 page makes from the address."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy.orm import joinedload, selectinload

from blog import search
from blog.arguments import page_arg
from blog.database import db
from blog.feeds import FEED_LENGTH, Feed, add_feed, post_entries
from blog.models import Post
from blog.page_cache import leave_out
from blog.paging import Neighbours
from blog.posts.blueprint import bp


@dataclass
class SearchPage(Neighbours):
    """One page of search results, counted ("page 2 of 7")."""

    page: int
    per_page: int
    total: int  # at most search.CANDIDATES
    items: list
    more: bool = False  # more posts match than the newest `total`, which were ranked

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search_page(words: str, page: int = 1, per_page: int | None = None) -> SearchPage:
    """Published posts and pages matching `words`, with their marked titles and snippets."""
    per_page = per_page or current_app.config["SITE"]["posts_per_page"]
    results = search.search(words, limit=per_page, offset=(page - 1) * per_page)
    posts = {
        post.id: post
        for post in db.session.scalars(
            db.select(Post)
            .where(Post.id.in_([hit.post_id for hit in results.hits]))
            .options(joinedload(Post.author), selectinload(Post.categories))  # as lists do
        )
    }
    items = [(posts[hit.post_id], hit) for hit in results.hits if hit.post_id in posts]
    return SearchPage(page, per_page, results.total, items, results.more)


_path_word = re.compile(r"[^\W\d_]{3,}")


def guess_from_path(path: str):
    """For a 404: the words of a mistyped address, and posts that have any of them."""
    words = _path_word.findall(path.replace("-", " ").replace("_", " "))[:6]
    if not words or path.startswith(("/admin/", "/static/", "/uploads/")):
        return "", None
    guess = " ".join(words)
    try:
        return guess, search_page(" OR ".join(words), per_page=5)
    except Exception:  # a page that is already an error must not fail again
        db.session.rollback()
        return guess, None


@bp.route("/search")
def search_results():
    """/search?q=words: ranked results with the matching words marked."""
    words = request.args.get("q", "").strip()
    page = page_arg()
    leave_out()  # every query its own page, each changed by any post: not worth storing
    results = search_page(words, page) if words else None
    if results and page > results.pages:
        abort(404)
    response = render_template("posts/search.html", words=words, results=results)
    # Result pages are endless and thin: followed, not indexed.
    return response, {"X-Robots-Tag": "noindex"}


def search_feed():
    """/search/feed/?q=words: the posts and pages that best match, as the page ranks them."""
    words = request.args.get("q", "").strip()
    if not words:
        abort(404)  # a feed of everything is /feed/
    leave_out()  # as the search page: every query its own, changed by any post
    results = search_page(words, per_page=FEED_LENGTH)
    title = f"Search: {words} – {current_app.config['SITE']['title']}"
    return Feed(
        title=title,
        page_path=url_for("posts.search_results", q=words),
        entries=post_entries([post for post, _hit in results.items]),
        query=urlencode({"q": words}),
    )


add_feed(bp, "/search/feed/", "search_feed", search_feed)
