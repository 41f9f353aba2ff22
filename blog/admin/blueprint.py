"""The admin blueprint, and what all its pages share: a login, and posts one may edit."""

from flask import Blueprint, abort
from flask_login import current_user, login_required

from blog.database import db
from blog.models import Post

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_login():
    """Every page here is for logged-in users."""


def editable_post_or_404(post_id: int) -> Post:
    post = db.get_or_404(Post, post_id)
    if not current_user.can_edit(post):
        abort(403)
    return post
