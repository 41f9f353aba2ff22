"""The admin's post list: every post one may edit, filtered and searched."""

from flask import render_template, request
from flask_login import current_user
from sqlalchemy import func, true
from sqlalchemy.orm import joinedload, selectinload

from blog.admin.blueprint import bp
from blog.arguments import id_arg
from blog.caching import until_site_changes
from blog.database import db
from blog.models import STATUS_LABELS, STATUSES, Category, Post, User, post_category
from blog.paging import page_of
from blog.scheduling import overdue_posts

POSTS_PER_ADMIN_PAGE = 25


def status_counts(author_id: int | None) -> dict[str, int]:
    """{status: posts}, of one author's posts or of all: a read of every row."""
    return dict(
        db.session.execute(
            db.select(Post.status, func.count())
            .where(Post.author_id == author_id if author_id is not None else true())
            .group_by(Post.status)
        ).all()
    )


@bp.route("/")
def index():
    """List posts, newest change first, filtered by status, category, author or words."""
    query = db.select(Post).options(joinedload(Post.author), selectinload(Post.categories))
    status = request.args.get("status", "")
    if status in STATUSES:
        query = query.where(Post.status == status)
    category_id = id_arg("category")
    if category_id:
        query = query.where(
            Post.id.in_(
                db.select(post_category.c.post_id).where(post_category.c.category_id == category_id)
            )
        )
    author_id = id_arg("author")
    if not current_user.edits_every_post:
        query = query.where(Post.author_id == current_user.id)
    elif author_id:
        query = query.where(Post.author_id == author_id)
    words = request.args.get("q", "").strip()
    if words:
        query = query.where(Post.title.icontains(words, autoescape=True))
    page = page_of(
        query.order_by(Post.updated_at.desc(), Post.id.desc()), per_page=POSTS_PER_ADMIN_PAGE
    )
    scope = None if current_user.edits_every_post else current_user.id
    counts = until_site_changes(("admin.status_counts", scope), lambda: status_counts(scope))
    return render_template(
        "admin/index.html",
        page=page,
        counts=counts,
        categories=db.session.scalars(db.select(Category).order_by(Category.name)).all(),
        authors=db.session.scalars(db.select(User).order_by(User.username)).all()
        if current_user.edits_every_post
        else [],
        filters={"status": status, "category": category_id, "author": author_id, "q": words},
        overdue=overdue_posts(),
        statuses=STATUS_LABELS,
    )
