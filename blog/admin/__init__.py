"""Site administration under /admin/: the post list here, the rest in this package.

editor.py   writing: the post editor, autosave, revisions, share links
media.py    the media library and image uploads
site.py     categories, users, profile and site settings
"""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, true
from sqlalchemy.orm import joinedload, selectinload

from blog.database import db
from blog.models import STATUS_LABELS, STATUSES, Category, Post, User, post_category
from blog.scheduling import overdue_posts

bp = Blueprint("admin", __name__, url_prefix="/admin")
POSTS_PER_ADMIN_PAGE = 25


@bp.before_request
@login_required
def require_login():
    """Every page here is for logged-in users."""


def editable_post_or_404(post_id: int) -> Post:
    post = db.get_or_404(Post, post_id)
    if not current_user.can_edit(post):
        abort(403)
    return post


@bp.route("/")
def index():
    """List posts, newest change first, filtered by status, category, author or words."""
    query = db.select(Post).options(joinedload(Post.author), selectinload(Post.categories))
    status = request.args.get("status", "")
    if status in STATUSES:
        query = query.where(Post.status == status)
    category_id = request.args.get("category", type=int)
    if category_id:
        query = query.where(
            Post.id.in_(
                db.select(post_category.c.post_id).where(post_category.c.category_id == category_id)
            )
        )
    author_id = request.args.get("author", type=int)
    if current_user.role == "author":
        query = query.where(Post.author_id == current_user.id)
    elif author_id:
        query = query.where(Post.author_id == author_id)
    words = request.args.get("q", "").strip()
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Post.title.ilike(f"%{escaped}%", escape="\\"))
    page = db.paginate(
        query.order_by(Post.updated_at.desc(), Post.id.desc()),
        per_page=POSTS_PER_ADMIN_PAGE,
    )
    counts = dict(
        db.session.execute(
            db.select(Post.status, func.count())
            .where(Post.author_id == current_user.id if current_user.role == "author" else true())
            .group_by(Post.status)
        ).all()
    )
    return render_template(
        "admin/index.html",
        page=page,
        counts=counts,
        categories=db.session.scalars(db.select(Category).order_by(Category.name)).all(),
        authors=db.session.scalars(db.select(User).order_by(User.username)).all()
        if current_user.role != "author"
        else [],
        filters={"status": status, "category": category_id, "author": author_id, "q": words},
        overdue=overdue_posts(),
        statuses=STATUS_LABELS,
    )


from blog.admin import editor, media, site  # noqa: E402, F401  (their routes join bp)
