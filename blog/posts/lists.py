"""Lists of posts: the home page, a tag's and an author's posts, and their feeds (each
as Atom at …/feed/ and JSON Feed at …/feed/json/, blog/feeds.py)."""

from flask import abort, current_app, render_template, request, url_for

from blog.database import db
from blog.feeds import FEED_LENGTH, add_feed, posts_feed
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


def site_feed():
    """The site's newest posts."""
    posts = db.session.scalars(listed_posts().limit(FEED_LENGTH)).unique().all()
    return posts_feed(posts, current_app.config["SITE"]["title"], url_for("posts.home"))


add_feed(bp, "/feed/", "feed", site_feed)


def tag_or_404(slug: str) -> Tag:
    label = db.session.scalar(db.select(Tag).where(Tag.slug == slug))
    if label is None:
        abort(404)
    return label


def tagged(label: Tag):
    ids = db.select(post_tag.c.post_id).where(post_tag.c.tag_id == label.id)
    return listed_posts().where(Post.id.in_(ids))


@bp.route("/tag/<slug>/")
def tag(slug):
    """The published posts with a tag, newest first."""
    label = tag_or_404(slug)
    page = page_of(tagged(label))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/tag.html", tag=label, page=page)


def tag_feed(slug):
    """The newest posts with a tag."""
    label = tag_or_404(slug)
    posts = db.session.scalars(tagged(label).limit(FEED_LENGTH)).unique().all()
    title = f"#{label.name} – {current_app.config['SITE']['title']}"
    return posts_feed(posts, title, url_for("posts.tag", slug=label.slug))


add_feed(bp, "/tag/<slug>/feed/", "tag_feed", tag_feed)


@bp.route("/author/<username>/")
def author(username):
    """An author's published posts, newest first."""
    writer = author_or_404(username)
    page = page_of(listed_posts().where(Post.author_id == writer.id))
    hooks().posts_loaded(posts=page.items)
    return render_template("posts/author.html", author=writer, page=page)


def author_feed(username):
    """An author's newest posts."""
    writer = author_or_404(username)
    posts = db.session.scalars(
        listed_posts().where(Post.author_id == writer.id).limit(FEED_LENGTH)
    ).all()
    title = f"{writer.name} – {current_app.config['SITE']['title']}"
    return posts_feed(posts, title, url_for("posts.author", username=writer.username))


add_feed(bp, "/author/<username>/feed/", "author_feed", author_feed)
