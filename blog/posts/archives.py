"""The archives: a month's or a year's posts, and every month with how many."""

from collections import Counter
from datetime import datetime

from flask import abort, render_template

from blog.database import db
from blog.models import Post
from blog.paging import page_of
from blog.plugins import hooks
from blog.posts.blueprint import bp, listed_posts
from blog.sitetime import local, to_utc


@bp.route("/<int:year>/")
@bp.route("/<int:year>/<int(fixed_digits=2):month>/")
def archive(year, month=None):
    """The posts of a month (/2026/11/) or a year (/2026/), newest first: WordPress's addresses."""
    if not 1 <= year < 9999 or (month is not None and not 1 <= month <= 12):
        abort(404)
    start = datetime(year, month or 1, 1)
    end = datetime(year + 1, 1, 1) if month in (None, 12) else datetime(year, month + 1, 1)
    try:  # the months of the site's calendar
        start_utc, end_utc = to_utc(start), to_utc(end)
    except OverflowError:  # year 1 east of Greenwich began before datetime's first day
        abort(404)
    page = page_of(
        listed_posts().where(Post.published_at >= start_utc, Post.published_at < end_utc)
    )
    if not page.items:
        abort(404)
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/archive.html", page=page, start=start, month=month)


@bp.route("/archive/")
def archives():
    """Every month with posts, newest first, with how many."""
    # Counted here, not grouped in SQL: a month of the site's time zone has no fixed offset
    # from UTC (summer time), and a date column is all this reads, even for 10,000 posts.
    dates = db.session.scalars(
        db.select(Post.published_at).where(Post.is_listed, Post.published_at.is_not(None))
    )
    months = Counter((moment.year, moment.month) for moment in map(local, dates))
    years: dict[int, list[tuple[datetime, int]]] = {}
    for (y, m), count in sorted(months.items(), reverse=True):
        years.setdefault(y, []).append((datetime(y, m, 1), count))
    return render_template("posts/archives.html", years=years)
