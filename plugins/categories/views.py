"""The category page and the queries behind the category links."""

from flask import abort, current_app, render_template, url_for
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from blog.database import db
from blog.models import Category, Post, post_category
from blog.plugin_api import FEED_LENGTH, add_feed, hooks, page_of, posts_feed


def register(bp) -> None:
    bp.add_url_rule("/category/<slug>/", view_func=category_page, endpoint="category")
    add_feed(bp, "/category/<slug>/feed/", "feed", category_feed)


def published_in(category: Category):
    """The category's posts and its child categories' (any depth), each once."""
    filed = db.select(post_category.c.post_id).where(
        post_category.c.category_id.in_(Category.subtree_ids(category.id))
    )
    return (
        db.select(Post)
        .where(Post.id.in_(filed), Post.is_listed)
        .options(joinedload(Post.author), selectinload(Post.categories))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def category_or_404(slug: str) -> Category:
    category = db.session.scalar(db.select(Category).where(Category.slug == slug))
    if category is None:
        abort(404)
    return category


def category_feed(slug):
    """The category's newest posts (its children's too)."""
    category = category_or_404(slug)
    posts = db.session.scalars(published_in(category).limit(FEED_LENGTH)).unique().all()
    title = f"{category.name} – {current_app.config['SITE']['title']}"
    return posts_feed(posts, title, url_for("categories.category", slug=slug))


def category_page(slug):
    """List a category's published posts (its children's too), newest first, by page."""
    category = category_or_404(slug)
    page = page_of(published_in(category))
    hooks().posts_loaded(posts=page.items)
    return render_template("categories/category.html", category=category, page=page)


def navigation_categories(limit: int) -> list[Category]:
    """The `limit` categories with the most published posts, most first (then A to Z).

    A news blog's "World News" comes before the odd category of one post. Counting every
    category's posts grows with the blog, so the navigation is kept until the site next
    changes (see navigation() in __init__.py), not counted at every view.
    """
    counts = (
        db.select(post_category.c.category_id, func.count().label("posts"))
        .join(Post, Post.id == post_category.c.post_id)
        .where(Post.is_listed)
        .group_by(post_category.c.category_id)
        .subquery()
    )
    return db.session.scalars(
        db.select(Category)
        .join(counts, counts.c.category_id == Category.id)
        .order_by(counts.c.posts.desc(), Category.name)
        .limit(limit)
    ).all()


def sitemap_urls() -> list[tuple[str, object]]:
    """Each category page with a published post, changed when its newest post changed."""
    rows = db.session.execute(
        db.select(Category.slug, func.max(Post.updated_at))
        .join(post_category, post_category.c.category_id == Category.id)
        .join(Post, Post.id == post_category.c.post_id)
        .where(Post.is_listed)
        .group_by(Category.slug)
        .order_by(Category.slug)
    )
    return [(url_for("categories.category", slug=slug), updated) for slug, updated in rows]
