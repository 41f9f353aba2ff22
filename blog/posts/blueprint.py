"""The public pages' blueprint, and what its lists share."""

from flask import Blueprint, abort
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


def author_or_404(username: str) -> User:
    author = db.session.scalar(db.select(User).where(User.username == username.lower()))
    if author is None:
        abort(404)
    return author
