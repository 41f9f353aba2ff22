"""Reading and writing comments, their feed, and the moderation queue."""

import functools
import re
import time
from datetime import UTC, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeSerializer
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blog.database import db
from blog.models import Post, utcnow
from blog.plugin_api import (
    Entry,
    Feed,
    add_feed,
    as_id,
    count_links,
    fresh_maker,
    fresh_value,
    hooks,
    page_changes_at,
    public_form,
    render_fragment,
    render_reader_markdown,
    session_token_for_users,
    site_url,
    throttle,
)
from plugins.comments.changes import add_comment, set_closed
from plugins.comments.forms import CommentForm
from plugins.comments.models import ClosedPost, Comment
from plugins.comments.settings import settings

bp = Blueprint(
    "comments",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/comments/static",
)
AUTHOR_COOKIE = "comment_author"
MINE = "comments_mine"  # session key: ids of this browser's comments awaiting moderation
FORM_MAX_AGE = 24 * 3600


# Reading -------------------------------------------------------------------------------


def counts_and_closed(post_ids: list[int]) -> tuple[dict[int, int], set[int]]:
    """({post id: approved comments}, {ids of posts closed to comments}), for a whole page
    of posts in one query."""
    if not post_ids:
        return {}, set()
    approved = (
        db.select(func.count())
        .where(Comment.post_id == Post.id, Comment.status == "approved")
        .scalar_subquery()
    )
    closed = db.select(ClosedPost.post_id).where(ClosedPost.post_id == Post.id).exists()
    rows = db.session.execute(db.select(Post.id, approved, closed).where(Post.id.in_(post_ids)))
    counts, closed_ids = {}, set()
    for post_id, count, is_closed in rows:
        counts[post_id] = count
        if is_closed:
            closed_ids.add(post_id)
    return counts, closed_ids


def can_moderate(post: Post) -> bool:
    return current_user.is_authenticated and current_user.can_edit(post)


def visible_comments(post: Post) -> list[Comment]:
    """Approved comments, plus pending ones to staff and to the browser that wrote them."""
    shown = Comment.status == "approved"
    if can_moderate(post):
        shown = Comment.status.in_(("approved", "pending"))
    elif session.get(MINE):
        shown = shown | ((Comment.status == "pending") & Comment.id.in_(session[MINE]))
    return db.session.scalars(
        db.select(Comment)
        .where(Comment.post_id == post.id, shown)
        .order_by(Comment.created_at, Comment.id)
    ).all()


def thread(comments: list[Comment]) -> list[tuple[Comment, list]]:
    """Nest comments under their parents: [(comment, [(reply, [...]), ...]), ...]."""
    children: dict[int | None, list[Comment]] = {}
    ids = {comment.id for comment in comments}
    for comment in comments:
        parent = comment.parent_id if comment.parent_id in ids else None
        children.setdefault(parent, []).append(comment)

    def build(parent_id):
        return [(comment, build(comment.id)) for comment in children.get(parent_id, [])]

    return build(None)


def closed_reason(post: Post) -> str | None:
    """Why this post takes no new comments, or None when it does."""
    if not post.is_public:
        return "Comments open when the post is published."
    if post.id in getattr(g, "comment_counts", {}):  # posts_loaded read it with the counts
        closed = post.id in g.comments_closed
    else:
        closed = db.session.get(ClosedPost, post.id) is not None
    if closed:
        return "Comments are closed."
    days = settings()["close_after_days"]
    if days and post.published_at:
        closes = post.published_at + timedelta(days=days)
        if utcnow() > closes:
            return f"Comments close {days} days after a post is published."
        page_changes_at(closes.replace(tzinfo=UTC).timestamp())  # a stored copy ends then
    return None


def remembered_author() -> dict:
    cookie = request.cookies.get(AUTHOR_COOKIE)
    if not cookie:
        return {}
    try:
        return author_serializer().loads(cookie)
    except BadSignature:
        return {}


def author_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="comments-author")


def form_clock(app=None) -> TimestampSigner:
    return _form_clock((app or current_app).secret_key)


@functools.cache
def _form_clock(secret_key: str) -> TimestampSigner:
    return TimestampSigner(secret_key, salt="comments-form-started")


@fresh_maker("comments.form_started")
def form_started(app, post_id: str) -> str:
    """The signed time the form is served: made anew at every view, even of a stored page
    (given the app: a hit has no app context), so that the minimum-time check counts from
    when this reader got the form."""
    return form_clock(app).sign(post_id).decode()


def new_form(post: Post) -> CommentForm:
    form = CommentForm(meta=session_token_for_users())
    author = remembered_author()
    if current_user.is_authenticated:
        author = {"name": current_user.name, "email": current_user.email, "website": ""}
    form.name.data = author.get("name", "")
    form.email.data = author.get("email", "")
    form.website.data = author.get("website", "")
    form.remember.data = bool(author) and not current_user.is_authenticated
    reply_to = request.args.get("reply_to", type=int)
    if reply_to:
        form.parent_id.data = str(reply_to)
    return form


def render_section(post: Post, form: CommentForm | None = None):
    """The comment section of a post page: the thread, then the form."""
    config = settings()
    comments = visible_comments(post)
    threads = thread(comments)
    page = pages = 1
    per_page = config["comments_per_page"]
    if per_page:
        pages = max(1, -(-len(threads) // per_page))
        page = min(max(request.args.get("cpage", 1, type=int), 1), pages)
        threads = threads[(page - 1) * per_page : page * per_page]
    form = form or getattr(g, "comment_form", None) or new_form(post)
    form.started.data = fresh_value("comments.form_started", str(post.id))
    replying_to = None
    if form.parent_id.data and form.parent_id.data.isdigit():
        replying_to = next((c for c in comments if c.id == int(form.parent_id.data)), None)
    return render_fragment(
        "comments/_section.html",
        fields=form_fields(form, config["max_length"]),
        post=post,
        threads=threads,
        count=sum(1 for comment in comments if comment.status == "approved"),
        form=form,
        closed=closed_reason(post),
        moderator=can_moderate(post),
        depth_limit=config["thread_depth"],
        replying_to=replying_to,
        comment_page=page,
        comment_pages=pages,
    )


def form_fields(form: CommentForm, max_length: int) -> Markup:
    """The form's visible fields (comments/_fields.html).

    Blank, as every visitor without a remembered name gets them, they are the same on
    every post: rendered once per worker and kept, since WTForms' widgets were a sixth of
    a post page's rendering. Not kept while templates reload as they change (debug).
    """

    def render() -> Markup:
        return render_fragment("comments/_fields.html", form=form, max_length=max_length)

    typed = ("body", "name", "email", "website", "remember", "homepage")
    if current_user.is_authenticated or form.errors or any(form[f].data for f in typed):
        return render()
    if current_app.jinja_env.auto_reload:
        return render()
    kept = current_app.extensions.setdefault("comments.blank_fields", {})
    if max_length not in kept:
        kept[max_length] = render()
    return kept[max_length]


# Writing -------------------------------------------------------------------------------


class Refused(Exception):
    """A comment we will not take; the message is for the person who wrote it."""

    def __init__(self, message: str, status: int = 422, field: str = "body"):
        super().__init__(message)
        self.status = status
        self.field = field


def published_post_or_404(post_id: int) -> Post:
    post = db.session.scalar(
        db.select(Post)
        .where(Post.id == post_id)
        .options(joinedload(Post.author), selectinload(Post.categories))
    )
    if post is None or not post.is_public:
        abort(404)
    return post


def check_timing(form: CommentForm, post: Post, config: dict) -> None:
    try:
        started = form_clock().unsign(
            form.started.data or "", max_age=FORM_MAX_AGE, return_timestamp=True
        )
    except SignatureExpired:
        raise Refused("This page was open too long; please send your comment again.") from None
    except BadSignature:
        raise Refused("The form was incomplete; please send your comment again.") from None
    value, stamp = started
    if value.decode() != str(post.id):
        raise Refused("The form belongs to another post; please send it again.")
    waited = time.time() - stamp.timestamp()
    if waited < config["min_seconds"]:
        raise Refused(
            "That was sent faster than a person types, so it looked automated. "
            "Please wait a few seconds and send it again."
        )


def blocked(config: dict, address: str, *texts: str) -> bool:
    for entry in config["blocklist"]:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == address:
            return True
        pattern = re.compile(rf"(?<!\w){re.escape(entry)}(?!\w)")
        if any(pattern.search(text.lower()) for text in texts):
            return True
    return False


def find_parent(form: CommentForm, post: Post, config: dict) -> Comment | None:
    if not form.parent_id.data:
        return None
    parent_id = as_id(form.parent_id.data)
    if parent_id is None:
        raise Refused("The comment you reply to does not exist.")
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id or parent.status != "approved":
        raise Refused("The comment you reply to is not on this post.")
    depth, ancestor = 1, parent
    while ancestor.parent_id is not None:
        depth += 1
        ancestor = db.session.get(Comment, ancestor.parent_id)
    if depth >= config["thread_depth"]:
        raise Refused("Replies cannot nest deeper here; reply to an earlier comment instead.")
    return parent


def initial_status(email: str, body_html: str, config: dict) -> str:
    if current_user.is_authenticated:
        return "approved"  # site accounts are trusted
    if count_links(body_html) > config["max_links"]:
        return "pending"
    if config["moderation"] == "none":
        return "approved"
    if config["moderation"] == "all":
        return "pending"
    known = db.session.scalar(
        db.select(Comment.id)
        .where(Comment.author_email == email, Comment.status == "approved")
        .limit(1)
    )
    return "approved" if known else "pending"


def accept(form: CommentForm, post: Post) -> Comment:
    """Check a submitted comment against every defence and store it, or raise Refused."""
    config = settings()
    address = request.remote_addr or ""
    if form.homepage.data:
        raise Refused("A field meant to stay empty was filled in, so this looked automated.")
    check_timing(form, post, config)
    reason = closed_reason(post)
    if reason:
        raise Refused(reason, status=403)
    if not throttle().hit(config["rate_limit"], "comments", address):
        raise Refused(
            "You have sent several comments in a short time. Please wait a minute.", status=429
        )
    body = form.body.data.strip()
    if len(body) > config["max_length"]:
        raise Refused(f"Comments can be {config['max_length']} characters at most.")
    email = form.email.data.strip().lower()
    name = " ".join(form.name.data.split())
    website = (form.website.data or "").strip()
    if blocked(config, address, name, email, website, body):
        raise Refused("This comment contains words or comes from an address this site refuses.")
    parent = find_parent(form, post, config)
    duplicate = db.session.scalar(
        db.select(Comment.id).where(
            Comment.post_id == post.id, Comment.author_email == email, Comment.body == body
        )
    )
    if duplicate:
        raise Refused("You have already posted that comment here.", status=409)
    body_html = str(render_reader_markdown(body))
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        user_id=current_user.id if current_user.is_authenticated else None,
        author_name=name,
        author_email=email,
        author_url=website,
        author_ip=address,
        body=body,
        body_html=body_html,
        status=initial_status(email, body_html, config),
    )
    return add_comment(comment)


@bp.route("/comments/<int:post_id>/", methods=["POST"])
@public_form  # sent from post pages that set no cookie, so that any cache may keep them
def create(post_id):
    """Take a comment; on a problem, show the post again with the form and the reason."""
    post = published_post_or_404(post_id)
    form = CommentForm(meta=session_token_for_users())
    try:
        if not form.validate():
            raise Refused("The comment was not posted: see the marked fields.", field=None)
        comment = accept(form, post)
    except Refused as refusal:
        db.session.rollback()
        if refusal.field:
            getattr(form, refusal.field).errors = [
                *getattr(form, refusal.field).errors,
                str(refusal),
            ]
        g.comment_form = form
        g.comment_error = str(refusal)
        hooks().posts_loaded(posts=[post])
        return render_template("posts/detail.html", post=post), refusal.status
    except IntegrityError:
        db.session.rollback()
        abort(404)  # the post or the parent was deleted while the form was open
    try:
        hooks().comment_posted(comment=comment, post=post)
        db.session.commit()  # what the hooks queued (the notification email)
    except Exception:
        db.session.rollback()
        current_app.logger.exception("comment_posted failed for comment %s", comment.id)
    response = redirect(
        url_for("posts.detail", slug=post.path, _anchor=f"comment-{comment.id}"), 303
    )
    remember(response, form)
    if comment.status == "pending":
        session[MINE] = [*session.get(MINE, []), comment.id][-20:]
        flash("Thank you! Your comment is awaiting moderation.", "info")
    return response


def remember(response, form: CommentForm) -> None:
    if current_user.is_authenticated:
        return
    if form.remember.data:
        value = author_serializer().dumps(
            {"name": form.name.data, "email": form.email.data, "website": form.website.data}
        )
        response.set_cookie(
            AUTHOR_COOKIE, value, max_age=365 * 24 * 3600, httponly=True, samesite="Lax"
        )
    else:
        response.delete_cookie(AUTHOR_COOKIE)


@bp.route("/comments/<int:post_id>/close", methods=["POST"])
@login_required
def close(post_id):
    post = db.get_or_404(Post, post_id)
    if not can_moderate(post):
        abort(403)
    if request.form.get("open"):
        set_closed(post.id, closed=False)
        flash("Comments are open again.", "success")
    else:
        set_closed(post.id, closed=True)
        flash("Comments are closed on this post.", "success")
    return redirect(url_for("posts.detail", slug=post.path, _anchor="comments"))


def comments_feed(slug):
    """A post's approved comments, newest first."""
    post = db.session.scalar(db.select(Post).where(Post.slug == slug))
    if post is None or not post.is_public:
        abort(404)
    comments = db.session.scalars(
        db.select(Comment)
        .where(Comment.post_id == post.id, Comment.status == "approved")
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(50)
    ).all()
    page = url_for("posts.detail", slug=post.path)
    entries = [
        Entry(
            url=f"{site_url()}{page}#comment-{comment.id}",
            title=f"{comment.author_name} on “{post.title}”",
            published=comment.created_at,
            updated=comment.created_at,
            author=comment.author_name,
            content_html=comment.body_html,
        )
        for comment in comments
    ]
    title = f"Comments on “{post.title}” – {current_app.config['SITE']['title']}"
    return Feed(title=title, page_path=f"{page}#comments", entries=entries)


add_feed(bp, "/comments/<slug>/feed/", "feed", comments_feed)
