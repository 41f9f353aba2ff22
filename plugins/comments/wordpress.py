"""Comments in WordPress exports: stored on import, written out on export (through hooks)."""

from sqlalchemy import select

from blog.database import db
from blog.models import utcnow
from blog.plugin_api import (
    WxrComment,
    post_pages,
    render_reader_markdown,
    site_changed,
    wordpress_markdown,
)
from plugins.comments.models import ClosedPost, Comment

# WordPress's comment_approved values, and what becomes of them here.
STATUSES = {"1": "approved", "0": "pending", "spam": "spam"}
EXPORTED = {status: approved for approved, status in STATUSES.items()}


def import_comments(post, item, summary) -> None:
    """Store an imported post's comments once each (matched by WordPress id), threaded."""
    if item.comment_status == "closed" and db.session.get(ClosedPost, post.id) is None:
        db.session.add(ClosedPost(post_id=post.id))
    if not item.comments:
        return
    known = dict(
        db.session.execute(
            select(Comment.wp_id, Comment.id).where(
                Comment.post_id == post.id, Comment.wp_id.is_not(None)
            )
        ).all()
    )
    created: list[tuple[Comment, int]] = []
    for wxr in sorted(item.comments, key=lambda comment: comment.wp_id):
        if wxr.wp_id in known:
            summary.add_existing("comments")
            continue
        if wxr.type in ("pingback", "trackback"):
            summary.add_skipped("comments", "pingbacks and trackbacks are not kept")
            continue
        status = STATUSES.get(wxr.approved)
        if status is None:
            summary.add_skipped("comments", f"in WordPress's {wxr.approved or 'unknown'} state")
            continue
        body = wordpress_markdown(wxr.content)
        comment = Comment(
            post_id=post.id,
            wp_id=wxr.wp_id,
            author_name=(wxr.author or "Anonymous")[:100],
            author_email=wxr.email[:254],
            author_url=wxr.url[:300] if wxr.url.startswith(("http://", "https://")) else "",
            author_ip=wxr.ip[:45],
            body=body,
            body_html=str(render_reader_markdown(body)),
            status=status,
            created_at=wxr.date or utcnow(),
        )
        db.session.add(comment)
        created.append((comment, wxr.parent_wp_id))
        summary.add_created("comments")
    db.session.flush()
    if created:
        site_changed(post_pages(post.id))  # a re-import may bring comments to posts already here
    known.update({comment.wp_id: comment.id for comment, _ in created})
    for comment, parent_wp_id in created:
        # A reply to a comment that was not kept (a pingback, say) starts a thread.
        comment.parent_id = known.get(parent_wp_id)


def export_comments(items) -> None:
    """Fill in the comments (and closed flag) of a batch of posts being exported."""
    by_id = {post.id: item for post, item in items.items()}
    comments = db.session.scalars(
        select(Comment).where(Comment.post_id.in_(by_id)).order_by(Comment.id)
    )
    for comment in comments:
        by_id[comment.post_id].comments.append(
            WxrComment(
                wp_id=comment.id,
                parent_wp_id=comment.parent_id or 0,
                content=comment.body_html,
                author=comment.author_name,
                email=comment.author_email,
                url=comment.author_url,
                ip=comment.author_ip,
                date=comment.created_at,
                approved=EXPORTED.get(comment.status, "0"),
                user_wp_id=comment.user_id or 0,
            )
        )
    closed = db.session.scalars(select(ClosedPost.post_id).where(ClosedPost.post_id.in_(by_id)))
    for post_id in closed:
        by_id[post_id].comment_status = "closed"
