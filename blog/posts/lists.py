"""Lists of posts: the home page, a tag's and an author's posts, and their feeds."""

from flask import abort, current_app, render_template, request, url_for

from blog.database import db
from blog.feeds import FEED_LENGTH, atom_response
from blog.models import Post, Tag, post_tag
from blog.paging import page_of
from blog.plugins import hooks
from blog.posts.blueprint import author_or_404, bp, listed_posts
from blog.posts.redirects import redirect_imported


@bp.route("/")
def home():
    wordpress_id = request.args.get("p") or request.args.get("page_id")
    if wordpress_id:
        return redirect_imported(wordpress_id)
    # Sticky posts head the first page, as in WordPress, and leave the dated flow.
    page = page_of(listed_posts().where(Post.sticky.is_(False)))
    sticky = []
    if page.page == 1:
        sticky = db.session.scalars(listed_posts().where(Post.sticky.is_(True))).all()
    hooks().posts_loaded(posts=sticky + page.items)
    return render_template("posts/home.html", page=page, sticky=sticky)


@bp.route("/feed/")
def feed():
    posts = db.session.scalars(listed_posts().limit(FEED_LENGTH)).unique().all()
    title = current_app.config["SITE"]["title"]
    return atom_response(posts, title, url_for("posts.feed"), url_for("posts.home"))


@bp.route("/tag/<slug>/")
def tag(slug):
    """The published posts with a tag, newest first."""
    label = db.session.scalar(db.select(Tag).where(Tag.slug == slug))
    if label is None:
        abort(404)
    tagged = db.select(post_tag.c.post_id).where(post_tag.c.tag_id == label.id)
    page = page_of(listed_posts().where(Post.id.in_(tagged)))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/tag.html", tag=label, page=page)


@bp.route("/author/<username>/")
def author(username):
    """An author's published posts, newest first."""
    writer = author_or_404(username)
    page = page_of(listed_posts().where(Post.author_id == writer.id))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/author.html", author=writer, page=page)


@bp.route("/author/<username>/feed/")
def author_feed(username):
    writer = author_or_404(username)
    posts = db.session.scalars(
        listed_posts().where(Post.author_id == writer.id).limit(FEED_LENGTH)
    ).all()
    title = f"{writer.name} – {current_app.config['SITE']['title']}"
    return atom_response(
        posts,
        title,
        url_for("posts.author_feed", username=writer.username),
        url_for("posts.author", username=writer.username),
    )
