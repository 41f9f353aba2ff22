"""The moderation queue at /admin/comments and its Approve, Spam and Delete actions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func
from sqlalchemy.orm import joinedload

from blog.database import db
from blog.models import Post
from blog.plugin_api import page_arg
from plugins.comments.changes import set_status
from plugins.comments.forms import ModerationForm
from plugins.comments.models import STATUSES, Comment
from plugins.comments.views import bp

QUEUE_PAGE = 50


def moderated_comments():
    """Comments the current user may moderate: all for editors, their posts' for others."""
    query = db.select(Comment)
    if not current_user.edits_every_post:
        query = query.join(Post, Post.id == Comment.post_id).where(
            Post.author_id == current_user.id
        )
    return query


def pending_count() -> int:
    query = moderated_comments().where(Comment.status == "pending")
    return db.session.scalar(db.select(func.count()).select_from(query.subquery()))


@bp.route("/admin/comments")
@login_required
def queue():
    """Show comments by status, newest first, with their moderation buttons."""
    status = request.args.get("status", "pending")
    if status not in STATUSES:
        abort(404)
    page = db.paginate(
        moderated_comments()
        .where(Comment.status == status)
        .options(joinedload(Comment.post))
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page=page_arg(),
        per_page=QUEUE_PAGE,
    )
    mine = moderated_comments().subquery()
    counts = dict(
        db.session.execute(db.select(mine.c.status, func.count()).group_by(mine.c.status)).all()
    )
    return render_template(
        "comments/moderation.html", page=page, status=status, counts=counts, form=ModerationForm()
    )


ACTIONS = {"approve": "approved", "spam": "spam", "unapprove": "pending", "delete": None}


def moderate(ids: list[int], action: str) -> int:
    if action not in ACTIONS:
        abort(400)
    comments = db.session.scalars(moderated_comments().where(Comment.id.in_(ids))).all()
    return set_status(comments, ACTIONS[action])


@bp.route("/admin/comments/<int:comment_id>/<action>", methods=["POST"])
@login_required
def moderate_one(comment_id, action):
    if not moderate([comment_id], action):
        abort(404)
    flash(f"Comment {comment_id}: {action} done.", "success")
    return redirect(request.referrer if is_queue(request.referrer) else url_for(".queue"))


@bp.route("/admin/comments/bulk", methods=["POST"])
@login_required
def moderate_many():
    ids = [int(value) for value in request.form.getlist("ids") if value.isdigit()]
    action = request.form.get("action", "")
    if not ids:
        flash("Tick at least one comment first.", "error")
    else:
        done = moderate(ids, action)
        flash(f"{action.title()}: {done} comment(s).", "success")
    return redirect(url_for(".queue", status=request.form.get("status", "pending")))


def is_queue(referrer: str | None) -> bool:
    return (
        bool(referrer) and "/admin/comments" in referrer and referrer.startswith(request.host_url)
    )
