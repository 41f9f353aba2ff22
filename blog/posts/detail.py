"""One post (or page) as readers see it, and the notice its editors see above it."""

from urllib.parse import urlencode

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from blog import sharing
from blog.database import db
from blog.editing import word_count
from blog.models import Category, Post, post_category
from blog.page_cache import shows_only_loaded_posts
from blog.plugins import hooks
from blog.posts.blueprint import bp
from blog.posts.redirects import redirect_old_address
from blog.sitetime import local_time


# Not strict about the last slash: a path without it is answered here, so that an
# unknown one (/admin/nothing, /wp-login.php) is a 404 at once, not a redirect to a 404.
@bp.route("/<path:slug>/", strict_slashes=False)
def detail(slug):
    """A post at /slug/, or a page at /parent/child/ (`slug` is then the whole path)."""
    own_slug = slug.rsplit("/", 1)[-1]
    # The post, its author, image and categories in one statement (a post has a few
    # categories), its tags in a second. The categories are joined flat (contains_eager):
    # joinedload's nested "LEFT JOIN (post_category JOIN category)" makes SQLite build
    # the whole join first, 65 ms at 100,000 posts.
    post = (
        db.session.scalars(
            db.select(Post)
            .outerjoin(post_category, post_category.c.post_id == Post.id)
            .outerjoin(Category, Category.id == post_category.c.category_id)
            .where(Post.slug == own_slug)
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
    if slug != post.path or not request.path.endswith("/"):
        return elsewhere(post)
    hooks().posts_loaded(posts=[post])
    shows_only_loaded_posts()  # a new post elsewhere leaves this page as it is
    return render_template("posts/detail.html", post=post)


def elsewhere(post: Post):
    """A request for a post by another path than its own. For a post (/2024/01/a-post/),
    an old address or nothing: the 404 handler looks. For a page, an old address too, or
    its address before it moved under a parent (or its parent was renamed or moved),
    which WordPress redirects as well."""
    if request.path != f"/{post.path}":  # more than its own address without the last slash
        if post.type != "page":
            abort(404)
        moved = redirect_old_address(request.path)
        if moved is not None:
            return moved
    query = urlencode(list(request.args.items(multi=True)))  # as read: never a 500 on bytes
    return redirect(url_for("posts.detail", slug=post.path) + (f"?{query}" if query else ""), 301)


bp.add_url_rule("/preview/<token>", "shared_draft", sharing.shared_draft)


@bp.app_template_global()
def reading(post: Post) -> tuple[int, int]:
    """(words, minutes to read) of the post, as the editor counts them."""
    return word_count(post.body or "")


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
