"""Every change to comments goes through here: a new comment, moderation (approve, spam,
back to pending, delete) and closing or opening a post, each in one transaction that
tells the site which pages changed (site_changed: the post's own page and every page
that loaded the post, which shows its comment count), from the web pages and the CLI.
The one other writer is a WordPress import (wordpress.py), inside the import's own
transaction, which it must not commit."""

from blog.database import db
from blog.plugin_api import post_pages, site_changed
from plugins.comments.models import ClosedPost, Comment


def add_comment(comment: Comment) -> Comment:
    """Store a new comment, checked by the caller (views.accept)."""
    db.session.add(comment)
    if comment.status == "approved":  # one awaiting moderation is shown to its writer only
        site_changed(post_pages(comment.post_id))
    db.session.commit()
    return comment


def set_status(comments: list[Comment], status: str | None) -> int:
    """Give these comments a status ("approved", "spam", "pending"), or delete them (None)."""
    for comment in comments:
        if status is None:
            db.session.delete(comment)
        else:
            comment.status = status
    if comments:  # (no tag at all would mean every page)
        site_changed(*{post_pages(comment.post_id) for comment in comments})
    db.session.commit()
    return len(comments)


def set_closed(post_id: int, closed: bool) -> None:
    """Close a post to new comments, or open it again."""
    if not closed:
        db.session.execute(db.delete(ClosedPost).where(ClosedPost.post_id == post_id))
    elif db.session.get(ClosedPost, post_id) is None:
        db.session.add(ClosedPost(post_id=post_id))
    site_changed(post_pages(post_id))
    db.session.commit()
