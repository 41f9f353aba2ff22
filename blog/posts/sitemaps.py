"""What search engines read: /sitemap.xml (an index past 50,000 posts) and /robots.txt."""

from flask import abort, current_app, render_template, url_for

from blog.database import db
from blog.models import Post, Tag, post_tag
from blog.plugins import hooks
from blog.posts.blueprint import bp

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
