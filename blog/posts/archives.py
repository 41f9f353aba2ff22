"""The archives: a month's or a year's posts (and their feeds), and every month with how
many."""

from collections import Counter
from datetime import date, datetime, time, timedelta

from flask import abort, current_app, render_template, url_for
from sqlalchemy import func, or_

from blog.database import db
from blog.feeds import FEED_LENGTH, add_feed, posts_feed
from blog.models import Post
from blog.paging import page_of
from blog.plugins import hooks
from blog.posts.blueprint import bp, listed_posts
from blog.sitetime import local, to_utc


def period(year: int, month: int | None):
    """(the period's first day, the query of its listed posts), or a 404."""
    if not 1 <= year < 9999 or (month is not None and not 1 <= month <= 12):
        abort(404)
    start = datetime(year, month or 1, 1)
    end = datetime(year + 1, 1, 1) if month in (None, 12) else datetime(year, month + 1, 1)
    try:  # the months of the site's calendar
        start_utc, end_utc = to_utc(start), to_utc(end)
    except OverflowError:  # year 1 east of Greenwich began before datetime's first day
        abort(404)
    return start, listed_posts().where(Post.published_at >= start_utc, Post.published_at < end_utc)


@bp.route("/<int:year>/")
@bp.route("/<int:year>/<int(fixed_digits=2):month>/")
def archive(year, month=None):
    """The posts of a month (/2026/11/) or a year (/2026/), newest first: WordPress's addresses."""
    start, posts = period(year, month)
    page = page_of(posts)
    if not page.items:
        abort(404)
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/archive.html", page=page, start=start, month=month)


def archive_feed(year, month=None):
    """The newest posts of a month or a year."""
    start, query = period(year, month)
    posts = db.session.scalars(query.limit(FEED_LENGTH)).unique().all()
    if not posts:
        abort(404)
    label = start.strftime("%B %Y" if month else "%Y")
    page = url_for("posts.archive", year=year, month=month)
    return posts_feed(posts, f"{label} – {current_app.config['SITE']['title']}", page)


add_feed(bp, "/<int:year>/feed/", "year_feed", archive_feed)
add_feed(bp, "/<int:year>/<int(fixed_digits=2):month>/feed/", "month_feed", archive_feed)


@bp.route("/archive/")
def archives():
    """Every month with posts, newest first, with how many."""
    years: dict[int, list[tuple[datetime, int]]] = {}
    for (y, m), count in sorted(month_counts().items(), reverse=True):
        years.setdefault(y, []).append((datetime(y, m, 1), count))
    return render_template("posts/archives.html", years=years)


def month_counts() -> Counter:
    """{(year, month): listed posts}, in the months of the site's time zone.

    SQL counts by UTC day: a few thousand rows for ten years, however many posts (a
    month of the zone has no fixed offset from UTC, summer time, so SQL cannot group by
    it). A day that the start of a month in the zone cuts in two is read post by post.
    """
    day = func.date(Post.published_at)
    listed = (Post.is_listed, Post.published_at.is_not(None))
    months: Counter = Counter()
    split_days = []
    for value, count in db.session.execute(
        db.select(day, func.count()).where(*listed).group_by(day)
    ):
        start = datetime.combine(
            date.fromisoformat(value) if isinstance(value, str) else value, time()
        )
        first, last = local(start), local(start + timedelta(days=1, microseconds=-1))
        if (first.year, first.month) == (last.year, last.month):
            months[first.year, first.month] += count
        else:
            split_days.append(start)
    if split_days:
        on_split_days = or_(
            *(
                Post.published_at.between(d, d + timedelta(days=1, microseconds=-1))
                for d in split_days
            )
        )
        for moment in map(
            local, db.session.scalars(db.select(Post.published_at).where(*listed, on_split_days))
        ):
            months[moment.year, moment.month] += 1
    return months
