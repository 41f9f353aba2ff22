"""The public pages' blueprint, and what its lists share."""

from flask import Blueprint, abort, current_app, request
from sqlalchemy.orm import joinedload, selectinload

from blog.database import db
from blog.models import Post, User

bp = Blueprint("posts", __name__)


def listed_posts():
    """Listed posts (published, not pages), newest first, with what every list shows loaded."""
    return (
        db.select(Post)
        .where(Post.is_listed)
        .options(joinedload(Post.author), selectinload(Post.categories))
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def paginate(query):
    """One page of `query` (?page=N), 404 past the last page."""
    per_page = current_app.config["SITE"]["posts_per_page"]
    page = request.args.get("page", 1, type=int)
    if page < 1:
        abort(404)
    return db.paginate(query, page=page, per_page=per_page, error_out=True, count=True)


def author_or_404(username: str) -> User:
    author = db.session.scalar(db.select(User).where(User.username == username.lower()))
    if author is None:
        abort(404)
    return author
