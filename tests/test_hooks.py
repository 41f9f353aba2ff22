"""The plugin contract: every hook documented, and each one shown to work."""

import importlib
import inspect
import types

import click
import pytest
from flask import Blueprint
from markupsafe import Markup

from blog import hookspecs
from blog.database import db
from blog.editing import PostData, delete_post, save_post
from blog.models import Post, User
from blog.plugin_api import hookimpl, hookspec
from blog.plugins import PluginError, available_plugins, fragments, hooks


def declared_hooks() -> dict:
    """Every hook spec: the core's, and those the built-in plugins offer each other."""
    modules = [hookspecs]
    for module_path, _source in available_plugins().values():
        plugin = importlib.import_module(module_path)
        if hasattr(plugin, "register_hookspecs"):
            modules += plugin.register_hookspecs()
    return {
        name: function
        for module in modules
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if hasattr(function, "pressroom_spec")
    }


HOOKS = declared_hooks()


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_has_a_docstring_and_a_test(name):
    spec = HOOKS[name]

    assert spec.__doc__ and len(spec.__doc__.strip()) > 40, f"hook {name} needs a docstring"
    assert f"test_hook_{name}" in globals(), f"hook {name} needs test_hook_{name}"


def test_the_core_declares_no_plugins_hook():
    core = {
        name
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, "pressroom_spec")
    }

    assert "comment_posted" in HOOKS and "comment_posted" not in core


def offered_specs():
    """A plugin's own hook spec module, as a plugin would write it."""
    module = types.ModuleType("fake_wave_specs")

    def waved(count):
        """Say how many waves there were, to anyone who listens."""

    module.waved = hookspec(waved)
    return module


def test_hook_register_hookspecs(fake_plugins, make_app):
    heard = []
    fake_plugins(
        waves={"register_hookspecs": lambda: [offered_specs()]},
        listener={"waved": lambda count: heard.append(count) or count * 2},
    )
    app = make_app(["waves", "listener"])

    with app.app_context():
        answers = hooks().waved(count=3)

    assert heard == [3] and answers == [6]


def test_another_plugins_hook_needs_that_plugin_or_optionalhook(fake_plugins, make_app):
    def optional_waved(count):
        return count

    fake_plugins(
        strict={"waved": lambda count: count},
        relaxed={"waved": hookimpl(optionalhook=True)(optional_waved)},
    )

    with pytest.raises(PluginError, match="plugin 'strict' implements an unknown hook 'waved'"):
        make_app(["strict"])
    make_app(["relaxed"])  # loads while the plugin that offers the hook is off


def test_hook_register_blueprints(fake_plugins, make_app):
    bp = Blueprint("waves", __name__, url_prefix="/waves")
    bp.add_url_rule("/", "index", lambda: "waving")
    fake_plugins(waves={"register_blueprints": lambda: [bp]})

    client = make_app(["waves"]).test_client()

    assert client.get("/waves/").text == "waving"


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        (Markup("<em>trusted</em>"), "<em>trusted</em>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ],
)
def test_hook_page_fragment(returned, shown, fake_plugins, make_app):
    seen = []

    def page_fragment(slot, context):
        seen.append((slot, sorted(context)))
        return returned if slot == "sidebar" else None

    fake_plugins(box={"page_fragment": page_fragment})
    app = make_app(["box"])

    page = app.test_client().get("/").text

    assert f'<aside class="sidebar">{shown}</aside>' in page
    assert ("sidebar", []) in seen and ("nav", []) in seen
    with app.test_request_context("/"), pytest.raises(ValueError, match="unknown page slot"):
        fragments("footer")


def test_page_fragment_gets_the_post_on_post_pages(fake_plugins, make_app, add_post):
    seen = []
    fake_plugins(spy={"page_fragment": lambda slot, context: seen.append((slot, context))})
    app = make_app(["spy"])
    with app.app_context():
        user = User(username="alice", email="a@example.com")
        save_post(PostData(title="Watched", status="published"), author=user)

    app.test_client().get("/watched/")

    slots = {slot: context for slot, context in seen}
    assert slots["post_meta"]["post"].title == "Watched"
    assert slots["post_footer"]["post"].title == "Watched"


def test_hook_post_saved(fake_plugins, make_app):
    calls = []

    def post_saved(post, form):
        calls.append((post.id, post.title, db.session.get(Post, post.id) is post, dict(form)))

    fake_plugins(spy={"post_saved": post_saved})
    app = make_app(["spy"])

    with app.app_context():
        user = User(username="alice", email="a@example.com")
        post = save_post(PostData(title="First"), author=user)
        save_post(PostData(title="First, edited"), author=user, post=post)

    assert calls == [(1, "First", True, {}), (1, "First, edited", True, {})]


def test_editor_sidebar_fields_reach_post_saved(fake_plugins, make_app, add_user):
    seen = []

    def page_fragment(slot, context):
        if slot == "editor_sidebar":
            return Markup('<label><input type="checkbox" name="spy_flag" value="on"> Flag</label>')
        return None

    def post_saved(post, form):
        seen.append(form.get("spy_flag"))

    fake_plugins(spy={"page_fragment": page_fragment, "post_saved": post_saved})
    app = make_app(["spy"])
    client = app.test_client()
    with app.app_context():
        user = User(username="alice", email="a@example.com", role="admin")
        user.set_password("password123")
        db.session.add(user)
        db.session.commit()
    client.post("/login", data={"username": "alice", "password": "password123"})

    editor = client.get("/admin/posts/new").text
    client.post("/admin/posts/new", data={"title": "Flagged", "spy_flag": "on", "publish": "1"})

    assert 'name="spy_flag"' in editor
    assert seen == ["on"]


def test_a_failing_post_saved_hook_saves_nothing(fake_plugins, make_app):
    def post_saved(post):
        raise RuntimeError("index is full")

    fake_plugins(grumpy={"post_saved": post_saved})
    app = make_app(["grumpy"])

    with app.app_context():
        user = User(username="alice", email="a@example.com")
        db.session.add(user)
        db.session.commit()
        with pytest.raises(RuntimeError):
            save_post(PostData(title="Doomed"), author=user)
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_hook_post_deleted(fake_plugins, make_app):
    calls = []
    fake_plugins(spy={"post_deleted": lambda post: calls.append((post.id, post.title))})
    app = make_app(["spy"])

    with app.app_context():
        user = User(username="alice", email="a@example.com")
        post = save_post(PostData(title="Short-lived"), author=user)
        delete_post(post)
        remaining = db.session.scalar(db.select(db.func.count(Post.id)))

    assert calls == [(1, "Short-lived")]
    assert remaining == 0


def test_hook_register_commands(fake_plugins, make_app):
    @click.command("count")
    def count():
        """Count the posts."""
        click.echo(db.session.scalar(db.select(db.func.count(Post.id))))

    fake_plugins(stats={"register_commands": lambda: [count]})
    runner = make_app(["stats"]).test_cli_runner()

    result = runner.invoke(args=["stats", "count"])

    assert result.exit_code == 0, result.output
    assert result.output == "0\n"


def test_hook_migrations_dir(hello_installed, migrated_app):
    """hello's branch is upgraded while it is enabled, and still resolves once it is off."""
    from sqlalchemy import inspect as inspect_db

    on = migrated_app(["hello"])
    with on.app_context():
        assert inspect_db(db.engine).has_table("hello_seen")

    off = migrated_app([])  # the same database, hello switched off
    result = off.test_cli_runner().invoke(args=["alembic", "current"])
    with off.app_context():
        still_there = inspect_db(db.engine).has_table("hello_seen")

    assert result.exit_code == 0, result.output
    assert still_there


def test_hook_posts_loaded(fake_plugins, make_app):
    seen = []
    fake_plugins(spy={"posts_loaded": lambda posts: seen.append([post.title for post in posts])})
    app = make_app(["spy"])
    with app.app_context():
        user = User(username="alice", email="a@example.com")
        for title in ("One", "Two"):
            save_post(PostData(title=title, status="published"), author=user)
    client = app.test_client()

    client.get("/")
    client.get("/one/")

    assert seen == [["Two", "One"], ["One"]]


def test_hook_comment_posted(fake_plugins, make_app):
    from tests.plugins.comments.helpers import post_comment

    seen = []

    def comment_posted(comment, post):
        stored = db.session.get(type(comment), comment.id)
        seen.append((comment.author_name, comment.status, post.slug, stored is not None))

    fake_plugins(spy={"comment_posted": comment_posted})
    app = make_app(["comments", "spy"], comments={"min_seconds": 0, "moderation": "all"})
    with app.app_context():
        user = User(username="alice", email="a@example.com")
        post = save_post(PostData(title="Talk", status="published"), author=user)
        post_id = post.id

    response = post_comment(app.test_client(), post_id, "talk", name="Ada")

    assert response.status_code == 303
    assert seen == [("Ada", "pending", "talk", True)]


def test_hook_sitemap_urls(fake_plugins, make_app):
    from datetime import datetime

    fake_plugins(gallery={"sitemap_urls": lambda: [("/gallery/", datetime(2026, 1, 2, 3, 4, 5))]})
    client = make_app(["gallery"]).test_client()

    xml = client.get("/sitemap.xml").text

    assert "<loc>http://blog.test/gallery/</loc><lastmod>2026-01-02T03:04:05Z</lastmod>" in xml


def test_hook_category_address(fake_plugins, make_app):
    from blog import menus
    from blog.models import Category

    fake_plugins(topics={"category_address": lambda slug: f"/topics/{slug}/"})
    app = make_app(["topics"])
    with app.app_context():
        category = Category(name="Birds", slug="birds")
        db.session.add(category)
        menus.append(category, "")
        db.session.commit()

    assert '<a href="/topics/birds/">Birds</a>' in app.test_client().get("/").text


# A WordPress export around its items.
WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"
     xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Old blog</title><link>http://old.test</link>
  <wp:wxr_version>1.2</wp:wxr_version><wp:base_blog_url>http://old.test</wp:base_blog_url>
  {items}
</channel>
</rss>
"""
WXR_WITH_ONE_POST = WXR.format(
    items="""<item>
    <title>Imported</title><link>http://old.test/imported/</link>
    <dc:creator>ada</dc:creator><content:encoded>Hello</content:encoded>
    <wp:post_id>7</wp:post_id><wp:post_date_gmt>2024-01-05 09:30:00</wp:post_date_gmt>
    <wp:post_name>imported</wp:post_name><wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:postmeta><wp:meta_key>mood</wp:meta_key><wp:meta_value>sunny</wp:meta_value></wp:postmeta>
  </item>"""
)


def import_text(app, tmp_path, text=WXR_WITH_ONE_POST, **options):
    from blog.wordpress.importer import import_wordpress

    path = tmp_path / "export.xml"
    path.write_text(text)
    with app.app_context():
        return import_wordpress(str(path), **options)


def test_imported_posts_are_saved_posts_with_importing_set(fake_plugins, make_app, tmp_path):
    seen = []

    def post_saved(post, form, importing):
        seen.append((post.title, post.slug, dict(form), importing))

    fake_plugins(spy={"post_saved": post_saved})
    app = make_app(["spy"])

    import_text(app, tmp_path)
    import_text(app, tmp_path)  # nothing new: nothing saved

    assert seen == [("Imported", "imported", {}, True)]


WXR_WITH_A_TRASHED_POST = WXR_WITH_ONE_POST.replace(
    "<wp:status>publish</wp:status>", "<wp:status>trash</wp:status>"
)


def test_hook_item_skipped(fake_plugins, make_app, tmp_path):
    seen = []

    def item_skipped(item, reason, summary):
        seen.append((item.wp_id, item.title, reason))
        summary.add_skipped("moods", "on a skipped post")

    fake_plugins(spy={"item_skipped": item_skipped})
    app = make_app(["spy"])

    summary = import_text(app, tmp_path, WXR_WITH_A_TRASHED_POST)

    assert seen == [(7, "Imported", "in WordPress's trash")]
    assert summary.skipped["posts"] == {"in WordPress's trash": 1}
    assert "moods: 1 skipped: on a skipped post" in summary.lines()


def test_hook_post_imported(fake_plugins, make_app, tmp_path):
    seen = []

    def post_imported(post, item, summary):
        seen.append((post.title, post.id is not None, item.meta_value("mood")))
        summary.add_created("moods")

    fake_plugins(spy={"post_imported": post_imported})
    app = make_app(["spy"])

    summary = import_text(app, tmp_path)
    import_text(app, tmp_path)  # found already imported: asked again, to skip what it has

    assert seen == [("Imported", True, "sunny")] * 2
    assert summary.created["moods"] == 1


def test_hook_import_finished(fake_plugins, make_app, tmp_path):
    seen = []

    def import_finished(post_ids, summary):
        seen.append([db.session.get(Post, post_id).title for post_id in post_ids])

    fake_plugins(spy={"import_finished": import_finished})
    app = make_app(["spy"])

    import_text(app, tmp_path)

    assert seen == [["Imported"]]


def test_a_failing_import_hook_imports_nothing(fake_plugins, make_app, tmp_path):
    def import_finished(post_ids, summary):
        raise RuntimeError("index is full")

    fake_plugins(grumpy={"import_finished": import_finished})
    app = make_app(["grumpy"])

    with pytest.raises(RuntimeError):
        import_text(app, tmp_path)

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0
        assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_hook_posts_exporting(fake_plugins, make_app):
    import io

    from blog.wordpress.exporter import export_wordpress
    from blog.wordpress.items import WxrComment

    def posts_exporting(items):
        for post, item in items.items():
            item.comments.append(WxrComment(wp_id=1, content=f"On {post.title}", author="Bo"))

    fake_plugins(spy={"posts_exporting": posts_exporting})
    app = make_app(["spy"])
    out = io.BytesIO()

    with app.app_context():
        user = User(username="alice", email="a@example.com")
        save_post(PostData(title="Exported", status="published"), author=user)
        counts = export_wordpress(out)

    assert counts["comments"] == 1
    assert (
        "<wp:comment_content><![CDATA[On Exported]]></wp:comment_content>"
        in out.getvalue().decode()
    )
