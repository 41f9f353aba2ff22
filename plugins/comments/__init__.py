"""Comments: threaded discussion under posts, with moderation and spam defences.

Settings, in instance/config.toml:

    [plugins.comments]
    moderation = "new_authors"  # "all": hold every comment; "none": publish at once;
                                # "new_authors": hold until a commenter has one approved
    thread_depth = 3           # how deep replies nest (1 = no replies)
    comments_per_page = 0      # top-level comments a page; 0 shows them all
    close_after_days = 0       # close comments on posts older than this; 0 never closes
    min_seconds = 3            # a form sent sooner than this after loading is refused
    rate_limit = "5/minute"    # comments one address may send
    max_links = 2              # a comment with more links waits for moderation
    max_length = 5000          # characters
    blocklist = []             # words, or IP addresses, whose comments are refused
    notify_emails = []         # who is emailed about each new comment (off when empty)
    smtp_host = "127.0.0.1"    # these three only while the site's [mail] host is unset;
    smtp_port = 25             # with it, notifications go through [mail]. Either way a
    mail_from = "pressroom@localhost"  # background job sends them (blog/jobs.py)
"""

from pathlib import Path

from flask import current_app, g, url_for
from flask_login import current_user

from blog.plugin_api import ConfigError, feed_links, hookimpl, render_fragment
from plugins.comments import hookspecs, moderation, notify, views, wordpress
from plugins.comments.commands import commands
from plugins.comments.settings import MODERATION, settings

bp = views.bp


@hookimpl
def register_blueprints():
    if settings()["moderation"] not in MODERATION:
        raise ConfigError(
            f"config.toml: 'plugins.comments.moderation' must be one of {', '.join(MODERATION)}"
        )
    return [bp]


@hookimpl
def register_hookspecs():
    return [hookspecs]


@hookimpl
def posts_loaded(posts):
    g.comment_counts, g.comments_closed = views.counts_and_closed([post.id for post in posts])


@hookimpl
def page_fragment(slot, context):
    if slot == "head":
        href = url_for("comments.static", filename="comments.css")
        post = context.get("post")
        feeds = None
        if post is not None and post.id and post.is_public:  # its comments' feeds
            title = f"Comments on “{post.title}” – {current_app.config['SITE']['title']}"
            feeds = feed_links(title, "comments.feed", slug=post.slug)
        return render_fragment("comments/_head.html", href=href, feeds=feeds)
    if slot == "post_meta" and context["post"].is_public:
        count = getattr(g, "comment_counts", {}).get(context["post"].id, 0)
        return render_fragment("comments/_count.html", post=context["post"], count=count)
    if slot == "post_footer" and context["post"].is_public:
        return views.render_section(context["post"])
    if slot == "admin_nav" and current_user.is_authenticated:
        return render_fragment("comments/_admin_nav.html", pending=moderation.pending_count())
    return None


@hookimpl
def comment_posted(comment, post):
    notify.email_owner(comment, post, settings())


@hookimpl
def post_imported(post, item, summary):
    wordpress.import_comments(post, item, summary)


@hookimpl
def item_skipped(item, reason, summary):
    if item.comments:
        summary.add_skipped("comments", f"on a skipped {item.type}", len(item.comments))


@hookimpl
def posts_exporting(items):
    wordpress.export_comments(items)


@hookimpl
def register_commands():
    return commands


@hookimpl
def migrations_dir():
    return Path(__file__).parent / "migrations"
