"""The plugin API: what a plugin may use of the core, besides blog.models, blog.database
and blog.forms (tests/test_architecture.py holds plugins to that).

Cheap to import: what pulls in heavy libraries (the WordPress converter's markdownify
and lxml) is loaded only when it is first called.
"""

import pluggy
from flask import current_app, render_template
from markupsafe import Markup

from blog.arguments import as_id, page_arg
from blog.caching import site_changed, until_site_changes
from blog.config import ConfigError
from blog.feeds import FEED_LENGTH, Entry, Feed, add_feed, feed_links, posts_feed, xml_response
from blog.forms import public_form, session_token_for_users
from blog.jobs import enqueue, task
from blog.mail import send_later
from blog.page_cache import (
    LISTS,
    NAV,
    fresh_maker,
    fresh_value,
    page_changes_at,
    page_shows,
    post_pages,
)
from blog.paging import page_of
from blog.plugins import hooks
from blog.proxy import site_url
from blog.rendering import count_links, plain_text, render_reader_markdown
from blog.sitetime import local_time
from blog.throttle import throttle
from blog.wordpress.items import WxrComment

__all__ = [
    "FEED_LENGTH",  # how many entries a feed holds
    "LISTS",  # page tag: lists of posts (home, categories, feeds, ...)
    "NAV",  # page tag: the navigation, on every page
    "ConfigError",  # raise it for a bad [plugins.<name>] setting
    "Entry",  # one item of a Feed (a post, a comment...)
    "Feed",  # what a feed view returns; add_feed serves it as Atom and as JSON Feed
    "WxrComment",  # what the import and export hooks carry for comments
    "as_id",  # a form or query value as an id, or None: never a number no row can have
    "add_feed",  # a feed view at <list>/feed/ (Atom) and <list>/feed/json/ (JSON Feed)
    "feed_links",  # the <link>s announcing such a feed's two addresses in a page's head
    "count_links",
    "fresh_maker",  # register a value made anew at every view of a stored page
    "fresh_value",  # ... and use it in a page (the comment form's signed time)
    "hookimpl",
    "hooks",  # call a hook: hooks().posts_loaded(posts=...)
    "hookspec",
    "local_time",  # a UTC time as people read it, in the site's zone
    "page_changes_at",  # a page that changes by itself at a known time (comments close)
    "page_arg",  # ?page=N, a 404 when no page can have it
    "page_of",  # one page (?page=N) of a public list of posts, uncounted
    "page_shows",  # tags of what a page shows, beyond the posts it loads (page cache)
    "plain_text",
    "posts_feed",  # a Feed of posts: add_feed's view returns posts_feed(posts, title, page)
    "plugin_config",
    "post_pages",  # the tag of the pages showing a post: site_changed(post_pages(id))
    "public_form",  # a form anonymous visitors send from cacheable pages (no session token)
    "render_fragment",
    "render_reader_markdown",  # readers' Markdown (comments): a small, safe subset
    "session_token_for_users",
    "enqueue",  # queue a background job: enqueue("myplugin.task", **json_arguments)
    "send_later",  # queue an email (an EmailMessage); sent by a background job
    "task",  # register a background job's function: @task("myplugin.task")
    "site_url",  # the site's public address for links out (https:// when served so)
    "site_changed",  # in a transaction that changes what readers see: site_changed(*tags)
    "throttle",  # rate limits, shared through Redis when REDIS_URL is set
    "until_site_changes",  # a value kept in the worker until the next write (navigation)
    "wordpress_markdown",
    "xml_response",  # an XML document (a sitemap...), without what XML cannot carry
]

hookimpl = pluggy.HookimplMarker("pressroom")
# For a hook that a plugin offers other plugins (see register_hookspecs in blog/hookspecs.py).
hookspec = pluggy.HookspecMarker("pressroom")


def render_fragment(template_name: str, **context) -> Markup:
    """Render a plugin template into Markup, for page_fragment to return."""
    return Markup(render_template(template_name, **context))  # noqa: S704 -- autoescaped template


def plugin_config(name: str, **defaults) -> dict:
    """The plugin's [plugins.<name>] settings merged over its defaults.

    A key the plugin does not know, or a value of another type than its
    default, is a ConfigError naming the key.
    """
    settings = current_app.config["PLUGINS"].get(name, {})
    for key, value in settings.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults)) or "none"
            raise ConfigError(f"config.toml: unknown key 'plugins.{name}.{key}' (known: {known})")
        expected = type(defaults[key])
        if defaults[key] is not None and not isinstance(value, expected):
            raise ConfigError(
                f"config.toml: 'plugins.{name}.{key}' must be of type "
                f"{expected.__name__}, not {value!r}"
            )
    return {**defaults, **settings}


def wordpress_markdown(html: str) -> str:
    """WordPress HTML (a post's or a comment's) as Markdown an author can edit."""
    # markdownify, BeautifulSoup and lxml load here, when an import first needs them,
    # not in every worker that serves pages.
    from blog.wordpress.content import to_markdown

    return to_markdown(html)
