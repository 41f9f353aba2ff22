"""Pressroom's plugin hooks: the only way a plugin changes what the core does.

Implement them with @hookimpl from blog.plugin_api. Calls always pass keyword
arguments and an implementation may accept only those it needs, so adding an
argument never breaks an older plugin. Results of several plugins arrive in
[plugins] enabled order; None results are dropped. A plugin may offer hooks of its
own to other plugins (register_hookspecs); the core declares only these.
"""

from pathlib import Path

import pluggy
from flask import Blueprint
from markupsafe import Markup

hookspec = pluggy.HookspecMarker("pressroom")


@hookspec
def register_blueprints() -> list[Blueprint]:
    """Return a list of blueprints. Called once, by create_app.

    A blueprint brings its routes, its templates/ (put files in
    templates/<plugin>/ so names never collide) and its static/ (served only
    if the blueprint has a url_prefix: url_for("<plugin>.static", filename=…)).
    A disabled plugin is never asked, so its routes answer 404. It runs inside
    an app context: read plugin_config() here to stop start-up on a bad setting.
    """


@hookspec
def page_fragment(slot: str, context: dict) -> Markup | None:
    """Return HTML for a named place in the theme, or None.

    slot: "head", "nav", "post_meta", "post_footer", "sidebar", "admin_nav" or
    "editor_sidebar".
    context: what the page has: {"post": post} in "head" on a post's own page
    (to announce its feeds, say), in "post_meta" (on the post page
    and on every post of a list, with post.categories and post.author already
    loaded), in "post_footer" (post page only) and in "editor_sidebar" (the
    editor's form, where post is None for a new post; inputs placed there are
    sent to post_saved as `form`); {} elsewhere.
    Return Markup (render_fragment() gives you one). A plain str is escaped, so
    a slip shows tags on the page instead of opening a hole.
    Called by the fragments() template global while a page renders, so on
    every page view: keep it cheap, and never query once per post of a list.
    """


@hookspec
def posts_loaded(posts: list) -> None:
    """Fetch, in one query, what the plugin will show for each of these posts.

    Called once per page, before it renders, with every post the page shows:
    the page of a list (home, a category page) or the one post of a post page.
    Keep the results in flask.g, keyed by post id, for page_fragment to read,
    so that a list of N posts costs one query instead of N. Return nothing.
    A plugin that renders its own list of posts calls
    hooks().posts_loaded(posts=...) before rendering it.
    """


@hookspec
def post_saved(post, form, importing) -> None:
    """Keep the plugin's data in step with a created or edited post.

    Fired exactly once per post for every change, whatever made it: the editor
    (saves, status changes, restored revisions, the first autosave of a new
    post), the CLI's `post create`, a scheduled post going out by itself
    (post.status is then "published", as after "Publish now"), and each post a
    WordPress import creates. All of these go through blog/editing.py.
    Runs inside the save transaction: after flush (post.id is set), before
    commit. Write through db.session; never commit or roll back. Raising an
    exception aborts the save: the author sees an error and nothing is stored
    (for an import: nothing of the whole file).
    form: the fields the editor sent (a MultiDict, with any inputs the plugin
    added through the "editor_sidebar" slot), or {} when the post was saved
    another way: then leave the plugin's per-post choices as they are.
    importing: True for a post an import creates. import_finished follows once
    every post of the file is in, so work that is cheaper done once for all
    (the related posts plugin's index) may wait for it.
    """


@hookspec
def post_deleted(post) -> None:
    """Remove the plugin's rows about `post`, inside the delete transaction.

    Called after the post's rows are marked for deletion and before commit;
    post.id is still readable. Never commit or roll back. Prefer
    ForeignKey(..., ondelete="CASCADE") where it does the job.
    """


@hookspec(firstresult=True)
def category_address(slug: str) -> str | None:
    """Return the site path of the category's page ("/category/news/"), or None.

    The core serves no category pages: a plugin does (plugins/categories). Asked when
    the navigation menu (blog/menus.py) shows an item that links to a category; with
    no plugin answering, the menu leaves the item out. The first answer wins.
    """


@hookspec
def sitemap_urls() -> list:
    """Return the plugin's public pages for /sitemap.xml: [(path, last_modified), ...].

    path: a site path such as "/category/news/"; last_modified: a naive UTC
    datetime, or None when unknown. Called on each /sitemap.xml request: answer
    with one query, and list only pages a visitor can open (no drafts, no admin).
    """


@hookspec
def register_commands() -> list:
    """Return click commands; they appear as `flask --app app <plugin> <command>`.

    Called once, by create_app. The commands run inside an app context, so
    they can use db.session and plugin_config().
    """


@hookspec
def migrations_dir() -> Path:
    """Return the Path of the plugin's Alembic versions folder.

    It must be the folder `migrations/` beside the plugin's __init__.py (start-up
    says so otherwise): while the plugin is off, it is found there without
    importing the plugin. The folder is one Alembic branch labelled with the
    plugin's name; its first revision sets depends_on to the core revision whose
    tables it references.
    Name the plugin's tables "<plugin>_<thing>". `flask db upgrade` upgrades the
    branch while the plugin is enabled; a disabled plugin's folder stays known
    to Alembic, so its recorded revisions still resolve and its tables are kept.
    """


@hookspec
def register_hookspecs() -> list:
    """Return modules (or classes) of hook specs that the plugin offers other plugins.

    Called once, by create_app, after every enabled plugin is registered: the
    specs are added to the plugin manager (pluggy's add_hookspecs), and the
    plugin calls its hooks with hooks().<name>(...). Mark each spec with
    hookspec from blog.plugin_api and document it as these are documented. A
    plugin that implements another plugin's hook marks the implementation
    @hookimpl(optionalhook=True), so that it still loads while that plugin is
    off. Example: the comments plugin's comment_posted (plugins/comments/hookspecs.py).
    """


@hookspec
def post_imported(post, item, summary) -> None:
    """Store the plugin's part of an imported WordPress post or page.

    item: the blog.wordpress.items.WxrItem the post came from: its comments
    (WxrComment objects, with WordPress ids, threading, approval), its
    comment_status, its postmeta (item.meta) and the rest. Also called for a
    post found already imported by an earlier run: skip what you already have
    (the comments plugin matches comments by their WordPress id).
    summary: count what you did, per kind, so every piece of the file is
    accounted for: summary.add_created("comments"), add_existing("comments"),
    add_skipped("comments", "why"). Runs inside the import's one transaction:
    write through db.session, never commit; raising aborts the whole import.
    Called by `flask --app app import wordpress` and the admin's Import page,
    after post_saved (which fires only for posts the import creates); with
    --dry-run everything is rolled back at the end.
    """


@hookspec
def item_skipped(item, reason, summary) -> None:
    """Account for the plugin's part of a post or page that an import leaves out.

    item: the WxrItem skipped (in WordPress's trash, an auto-draft, a revision,
    or of an unknown status); reason: why, as the summary says it. Count what
    the plugin would have imported as skipped, so every piece of the file is
    accounted for: summary.add_skipped("comments", "on a skipped post", n).
    Runs inside the import's transaction; write nothing.
    """


@hookspec
def import_finished(post_ids, summary) -> None:
    """Bring the plugin's derived data up to date after an import.

    post_ids: the ids of the posts and pages the file held (created or found).
    Called once, after every post is written and before the commit; e.g. the
    related posts plugin rebuilds its index here, rather than once per post.
    """


@hookspec
def posts_exporting(items) -> None:
    """Add the plugin's part to posts being exported to WordPress (WXR).

    items: {post: WxrItem} for one batch of posts; fill in what WordPress
    should receive, e.g. item.comments (WxrComment objects; parent_wp_id and
    wp_id are your own ids, which the export keeps). Load the batch's data in
    one query. A plugin that changes item.content makes a Pressroom import of
    the file convert that HTML rather than take the post's own Markdown (its
    fingerprint, in item.meta, is of the HTML as the core wrote it). Called by
    `flask --app app export wordpress` and the admin's Export page.
    """
