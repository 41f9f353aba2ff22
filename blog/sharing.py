"""Share-a-draft links: a signed address that lets someone without an account read a draft.

The link names the post, when it stops working and the post's share generation, signed
with the site's secret key, so a changed or guessed link is worthless. Withdrawing a
post's links raises its generation, and every link made before stops working. A link
always shows the post's latest saved words; once the post is public it simply leads there.
"""

import re
import time
from datetime import UTC, datetime, timedelta

from flask import abort, current_app, redirect, render_template, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from blog.database import db
from blog.models import Post
from blog.proxy import site_url
from blog.sitetime import local_time

LINK_DAYS = (1, 7, 30)
SALT = "pressroom-share-draft"


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def share_link(post: Post, lifetime: timedelta) -> str:
    expires = int(time.time() + lifetime.total_seconds())
    claims = {"post": post.id, "expires": expires, "generation": post.share_generation}
    token = serializer().dumps(claims)
    return site_url() + url_for("posts.shared_draft", token=token)


def _claims(token: str) -> tuple[int, int, int] | None:
    """(post id, expiry time, generation) of a link made here, or None."""
    try:
        claims = serializer().loads(token)
        # Links made before generations carry none: 0.
        return int(claims["post"]), int(claims["expires"]), int(claims.get("generation", 0))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def shared_post_id(token: str) -> int | None:
    """The post a share link still opens (not withdrawn, not expired), or None."""
    claims = _claims(token) if token else None
    if claims is None or time.time() > claims[1]:
        return None
    generation = db.session.scalar(db.select(Post.share_generation).where(Post.id == claims[0]))
    return claims[0] if generation == claims[2] else None


def with_share_token(html: str, token: str) -> str:
    """The page's own uploads, addressed with the link's token: a draft's images are
    not public (blog/media/storage.py), and the link's reader may see them."""
    return _upload_address.sub(lambda found: f"{found.group(0)}?share={token}", html)


_upload_address = re.compile(r"/uploads/[^\s\"'?#,<>]+")


def shared_draft(token: str):
    claims = _claims(token)
    if claims is None:
        abort(404)
    post_id, expires, generation = claims
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    if post.is_public:
        return redirect(url_for("posts.detail", slug=post.path))
    if generation != post.share_generation:
        abort(410, "The author has withdrawn this preview link.")
    if time.time() > expires:
        abort(410, "This preview link has expired. Ask the author for a new one.")
    page = render_template(
        "posts/detail.html",
        post=post,
        preview="shared",
        expires=expires_text(expires),
        shared_body=with_share_token(post.body_html, token),  # the body, sanitised, and |safe
        share_token=token,
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
