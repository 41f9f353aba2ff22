"""The public pages: home, a post, and the site feed."""

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blog import search, sharing
from blog.database import db
from blog.feeds import FEED_LENGTH, atom_response
from blog.models import ImportedItem, Post, Redirect, Tag, User, post_tag
from blog.plugins import hooks
from blog.sitetime import local, local_time, to_utc

bp = Blueprint("posts", __name__)


def published_posts():
    """Published posts (not pages), newest first, with what every list shows loaded."""
    return (
        db.select(Post)
        .where(Post.is_listed)
        .options(joinedload(Post.author), selectinload(Post.categories))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def paginate(query):
    """One page of `query` (?page=N), 404 past the last page."""
    per_page = current_app.config["SITE"]["posts_per_page"]
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    return db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)


@bp.route("/")
def home():
    wordpress_id = request.args.get("p") or request.args.get("page_id")
    if wordpress_id:
        return redirect_imported(wordpress_id)
    # Sticky posts head the first page, as in WordPress, and leave the dated flow.
    page = paginate(published_posts().where(Post.sticky.is_(False)))
    sticky = []
    if page.page == 1:
        sticky = db.session.scalars(published_posts().where(Post.sticky.is_(True))).all()
    hooks().posts_loaded(posts=sticky + page.items)
    return render_template("posts/home.html", page=page, sticky=sticky)


def redirect_imported(wordpress_id: str):
    """/?p=123 and /?page_id=123, a WordPress post's plain address: 301 to its new one."""
    post = db.session.scalar(
        db.select(Post)
        .join(ImportedItem, ImportedItem.post_id == Post.id)
        .where(ImportedItem.wp_id == (int(wordpress_id) if wordpress_id.isdigit() else -1))
        .order_by(ImportedItem.id.desc())
        .limit(1)
    )
    if post is None:
        abort(404)
    return redirect(url_for("posts.detail", slug=post.slug), 301)


def redirect_old_address(path: str):
    """A 301 to the post that once lived at `path`, or None."""
    if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        path += "/"
    slug = db.session.scalar(
        db.select(Post.slug)
        .join(Redirect, Redirect.post_id == Post.id)
        .where(Redirect.path == path)
    )
    if slug is None:
        return None
    return redirect(url_for("posts.detail", slug=slug), 301)


@bp.route("/<slug>/")
def detail(slug):
    post = db.session.scalar(
        db.select(Post)
        .where(Post.slug == slug)
        .options(
            joinedload(Post.author),
            joinedload(Post.featured_image),
            selectinload(Post.categories),
            selectinload(Post.tags),
        )
    )
    if post is None:
        abort(404)  # the 404 handler first looks for an old address (redirect_old_address)
    if not post.is_public and not (current_user.is_authenticated and current_user.can_edit(post)):
        abort(404)  # a draft does not exist for visitors
    hooks().posts_loaded(posts=[post])
    return render_template("posts/detail.html", post=post)


bp.add_url_rule("/preview/<token>", "shared_draft", sharing.shared_draft)


@bp.app_template_global()
def status_notice(post: Post) -> str:
    """What an editor is told above a post visitors cannot see."""
    kind = "page" if post.type == "page" else "post"
    if post.status == "unlisted":
        return (
            f"This {kind} is unlisted: anyone with its address can read it, "
            "but it is in no list, feed, sitemap or search."
        )
    when = local_time(post.date, "%B %-d, %Y, %H:%M %Z")
    return {
        "draft": f"This {kind} is a draft",
        "pending": f"This {kind} is waiting for an editor's review",
        "private": f"This {kind} is private",
        "scheduled": f"This {kind} is scheduled for {when}",
    }.get(post.status, f"This {kind} is not published") + ": only people who can edit it see it."


@dataclass
class SearchPage:
    """One page of search results, shaped like a Flask-SQLAlchemy page for the templates."""

    page: int
    per_page: int
    total: int
    items: list

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def search_page(words: str, page: int = 1, per_page: int | None = None) -> SearchPage:
    """Published posts and pages matching `words`, with their marked titles and snippets."""
    per_page = per_page or current_app.config["SITE"]["posts_per_page"]
    results = search.search(words, limit=per_page, offset=(page - 1) * per_page)
    posts = {
        post.id: post
        for post in db.session.scalars(
            db.select(Post)
            .where(Post.id.in_([hit.post_id for hit in results.hits]))
            .options(joinedload(Post.author))
        )
    }
    items = [(posts[hit.post_id], hit) for hit in results.hits if hit.post_id in posts]
    return SearchPage(page, per_page, results.total, items)


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
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    results = search_page(words, page) if words else None
    if results and page > results.pages:
        abort(404)
    response = render_template("posts/search.html", words=words, results=results)
    # Result pages are endless and thin: followed, not indexed.
    return response, {"X-Robots-Tag": "noindex"}


@bp.route("/feed/")
def feed():
    posts = db.session.scalars(published_posts().limit(FEED_LENGTH)).unique().all()
    title = current_app.config["SITE"]["title"]
    return atom_response(posts, title, url_for("posts.feed"), url_for("posts.home"))


def author_or_404(username: str) -> User:
    author = db.session.scalar(db.select(User).where(User.username == username.lower()))
    if author is None:
        abort(404)
    return author


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
    page = paginate(
        published_posts().where(Post.published_at >= start_utc, Post.published_at < end_utc)
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


@bp.route("/tag/<slug>/")
def tag(slug):
    """The published posts with a tag, newest first."""
    label = db.session.scalar(db.select(Tag).where(Tag.slug == slug))
    if label is None:
        abort(404)
    tagged = db.select(post_tag.c.post_id).where(post_tag.c.tag_id == label.id)
    page = paginate(published_posts().where(Post.id.in_(tagged)))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/tag.html", tag=label, page=page)


@bp.route("/author/<username>/")
def author(username):
    """An author's published posts, newest first."""
    writer = author_or_404(username)
    page = paginate(published_posts().where(Post.author_id == writer.id))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/author.html", author=writer, page=page)


@bp.route("/author/<username>/feed/")
def author_feed(username):
    writer = author_or_404(username)
    posts = db.session.scalars(
        published_posts().where(Post.author_id == writer.id).limit(FEED_LENGTH)
    ).all()
    title = f"{writer.name} – {current_app.config['SITE']['title']}"
    return atom_response(
        posts,
        title,
        url_for("posts.author_feed", username=writer.username),
        url_for("posts.author", username=writer.username),
    )


SITEMAP_LIMIT = 50_000  # URLs one sitemap file may hold (sitemaps.org)


@bp.route("/sitemap.xml")
def sitemap():
    """Every public page with its last change; an index of files past 50,000 posts."""
    total = db.session.scalar(db.select(db.func.count(Post.id)).where(Post.status == "published"))
    if total > SITEMAP_LIMIT:
        files = [url_for("posts.sitemap_part", number=n) for n in range(total // SITEMAP_LIMIT + 1)]
        xml = render_template("posts/sitemap_index.xml", files=files)
    else:
        xml = render_template("posts/sitemap.xml", entries=sitemap_entries(0, include_pages=True))
    return xml, 200, {"Content-Type": "application/xml; charset=utf-8"}


@bp.route("/sitemap-<int:number>.xml")
def sitemap_part(number):
    entries = list(sitemap_entries(number, include_pages=number == 0))
    if not entries:
        abort(404)
    xml = render_template("posts/sitemap.xml", entries=entries)
    return xml, 200, {"Content-Type": "application/xml; charset=utf-8"}


def sitemap_entries(number: int, include_pages: bool):
    """(path, last modified) of the home page and plugin pages, then one slice of posts."""
    if include_pages:
        newest = db.session.scalar(
            db.select(db.func.max(Post.updated_at)).where(Post.status == "published")
        )
        yield url_for("posts.home"), newest
        tags = db.session.execute(
            db.select(Tag.slug, db.func.max(Post.updated_at))
            .join(post_tag, post_tag.c.tag_id == Tag.id)
            .join(Post, Post.id == post_tag.c.post_id)
            .where(Post.status == "published")
            .group_by(Tag.slug)
            .order_by(Tag.slug)
        )
        for slug, updated in tags:
            yield url_for("posts.tag", slug=slug), updated
        for entries in hooks().sitemap_urls():
            yield from entries or []
    posts = db.session.execute(
        db.select(Post.slug, Post.updated_at)
        .where(Post.status == "published")
        .order_by(Post.id)
        .offset(number * SITEMAP_LIMIT)
        .limit(SITEMAP_LIMIT)
        .execution_options(yield_per=2000)
    )
    for slug, updated in posts:
        yield url_for("posts.detail", slug=slug), updated


@bp.route("/robots.txt")
def robots():
    site = current_app.config["SITE"]["url"]
    text = f"User-agent: *\nDisallow: /admin/\nDisallow: /login\n\nSitemap: {site}/sitemap.xml\n"
    return text, 200, {"Content-Type": "text/plain; charset=utf-8"}
