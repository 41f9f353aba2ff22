"""Share-a-draft links: a signed address that lets someone without an account read a draft.

The link names the post, when it stops working and the post's share generation, signed
with the site's secret key, so a changed or guessed link is worthless. Withdrawing a
post's links raises its generation, and every link made before stops working. A link
always shows the post's latest saved words; once the post is public it simply leads there.
"""

import time
from datetime import UTC, datetime, timedelta

from flask import abort, current_app, redirect, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from blog.database import db
from blog.models import Post
from blog.sitetime import local_time

LINK_DAYS = (1, 7, 30)
SALT = "pressroom-share-draft"


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def share_link(post: Post, lifetime: timedelta) -> str:
    expires = int(time.time() + lifetime.total_seconds())
    claims = {"post": post.id, "expires": expires, "generation": post.share_generation}
    token = serializer().dumps(claims)
    return current_app.config["SITE"]["url"] + url_for("posts.shared_draft", token=token)


def shared_draft(token: str):
    try:
        claims = serializer().loads(token)
        post_id, expires = int(claims["post"]), int(claims["expires"])
        generation = int(claims.get("generation", 0))  # links made before generations
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(404)
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    if post.is_public:
        return redirect(url_for("posts.detail", slug=post.slug))
    if generation != post.share_generation:
        abort(410, "The author has withdrawn this preview link.")
    if time.time() > expires:
        abort(410, "This preview link has expired. Ask the author for a new one.")
    page = render_template(
        "posts/detail.html", post=post, preview="shared", expires=expires_text(expires)
    )
    # Not for search engines; and the secret address must not leak through links out.
    return page, {
        "X-Robots-Tag": "noindex, nofollow",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "private, no-store",
    }


def expires_text(timestamp: int) -> str:
    return local_time(datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None))


def withdraw_links(post: Post) -> None:
    """Make every share link of the post made so far stop working."""
    db.session.execute(
        db.update(Post)
        .where(Post.id == post.id)
        .values(share_generation=Post.share_generation + 1)
        .execution_options(synchronize_session="fetch")
    )
    db.session.commit()
