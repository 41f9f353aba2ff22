"""Pages of public lists, newest first, without counting the list.

A count reads every row of the list (30 ms for a category of 10,000 posts on SQLite, at
every rendering), so lists say "Older posts" when one more post exists beyond this page,
as most blogs do, rather than "page 3 of 1,000". The admin's post list too: its status
tabs give the totals, counted once per change of the site (blog/admin/posts.py).
"""

from dataclasses import dataclass

from flask import abort, current_app

from blog.arguments import page_arg
from blog.database import db


class Neighbours:
    """The links of page `self.page` to the pages beside it, as the templates' pagination
    macro reads them (the names of a Flask-SQLAlchemy page)."""

    page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass
class Page(Neighbours):
    items: list
    page: int
    has_next: bool
    pages = None  # unknown: not counted


def page_of(query, per_page: int | None = None) -> Page:
    """Page ?page=N of `query` (per_page, or posts_per_page, a page); 404 past the last."""
    per_page = per_page or current_app.config["SITE"]["posts_per_page"]
    number = page_arg()
    rows = db.session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)).all()
    if number > 1 and not rows:
        abort(404)
    return Page(rows[:per_page], number, has_next=len(rows) > per_page)
