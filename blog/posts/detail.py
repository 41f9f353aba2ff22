"""One post (or page) as readers see it, and the notice its editors see above it."""

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from blog import sharing
from blog.database import db
from blog.models import Category, Post, post_category
from blog.page_cache import shows_only_loaded_posts
from blog.plugins import hooks
from blog.posts.blueprint import bp
from blog.sitetime import local_time


@bp.route("/<slug>/")
def detail(slug):
    # The post, its author, image and categories in one statement (a post has a few
    # categories), its tags in a second. The categories are joined flat (contains_eager):
    # joinedload's nested "LEFT JOIN (post_category JOIN category)" makes SQLite build
    # the whole join first, 65 ms at 100,000 posts.
    post = (
        db.session.scalars(
            db.select(Post)
            .outerjoin(post_category, post_category.c.post_id == Post.id)
            .outerjoin(Category, Category.id == post_category.c.category_id)
            .where(Post.slug == slug)
            .order_by(Category.name)
            .options(
                joinedload(Post.author),
                joinedload(Post.featured_image),
                contains_eager(Post.categories),
                selectinload(Post.tags),
            )
        )
        .unique()
        .first()
    )
    if post is None:
        abort(404)  # the 404 handler first looks for an old address (redirect_old_address)
    if not post.is_public and not (current_user.is_authenticated and current_user.can_edit(post)):
        abort(404)  # a draft does not exist for visitors
    hooks().posts_loaded(posts=[post])
    shows_only_loaded_posts()  # a new post elsewhere leaves this page as it is
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
