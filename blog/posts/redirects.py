"""Imported posts' old addresses: 301s to where they live now."""

from flask import abort, redirect, url_for

from blog.arguments import as_id
from blog.database import db
from blog.models import ImportedItem, Post, Redirect


def redirect_imported(wordpress_id: str):
    """/?p=123 and /?page_id=123, a WordPress post's plain address: 301 to its new one.

    Published posts and pages only: WordPress ids are easy to count through, and the
    new address of a draft, a private or an unlisted post is its slug, so its title.
    """
    post = db.session.scalar(
        db.select(Post)
        .join(ImportedItem, ImportedItem.post_id == Post.id)
        .where(ImportedItem.wp_id == (as_id(wordpress_id) or -1), Post.status == "published")
        .order_by(ImportedItem.id.desc())
        .limit(1)
    )
    if post is None:
        abort(404)
    return redirect(url_for("posts.detail", slug=post.path), 301)


def redirect_old_address(path: str):
    """A 301 to the post that once lived at `path`, or None."""
    if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        path += "/"
    post = db.session.scalar(
        db.select(Post)
        .join(Redirect, Redirect.post_id == Post.id)
        .where(Redirect.path == path, Post.status == "published")  # as redirect_imported
    )
    if post is None or f"/{post.path}/" == path:
        return None
    return redirect(url_for("posts.detail", slug=post.path), 301)
