"""Share-a-draft links: a signed address that lets someone without an account read a draft.

The link names the post and when it stops working, signed with the site's secret key,
so nothing is stored and a changed or guessed link is worthless. It always shows the
post's latest saved words; once the post is public it simply leads there.
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
    token = serializer().dumps({"post": post.id, "expires": expires})
    return current_app.config["SITE"]["url"] + url_for("posts.shared_draft", token=token)


def shared_draft(token: str):
    try:
        claims = serializer().loads(token)
        post_id, expires = int(claims["post"]), int(claims["expires"])
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(404)
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    if post.is_public:
        return redirect(url_for("posts.detail", slug=post.slug))
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
