"""The plugin host: finding, loading and switching plugins, third-party ones included."""

from importlib.metadata import EntryPoint

import pytest
from markupsafe import Markup

from blog.database import db
from blog.editing import PostData, save_post
from blog.models import User
from blog.plugins import PluginError, available_plugins, plugin_manager

BUILT_IN = sorted(name for name, (_, source) in available_plugins().items() if source == "plugins/")


def test_built_in_plugins_are_found_in_the_plugins_folder():
    found = available_plugins()

    assert "categories" in found
    assert found["categories"] == ("plugins.categories", "plugins/")


def publish(app, title="Hello"):
    """Save one published post in `app`, through the editor's code path."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "alice"))
        if user is None:
            user = User(username="alice", email="alice@example.com", role="admin")
            db.session.add(user)
        return save_post(PostData(title=title, status="published"), author=user).slug


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_plugin_alone_loads_and_renders_pages(name, make_app):
    app = make_app([name])
    slug = publish(app)
    client = app.test_client()

    assert plugin_manager(app).get_plugin(name) is not None
    assert client.get("/").status_code == 200
    assert client.get(f"/{slug}/").status_code == 200


def test_all_plugins_together_render_home_and_post(make_app):
    app = make_app(BUILT_IN)
    slug = publish(app)
    client = app.test_client()

    assert client.get("/").status_code == 200
    assert client.get(f"/{slug}/").status_code == 200


def test_no_plugins_is_safe_mode(make_app):
    app = make_app([])
    slug = publish(app)

    assert app.test_client().get(f"/{slug}/").status_code == 200
    assert plugin_manager(app).get_plugins() == set()


def test_unknown_plugin_stops_start_up_naming_it_and_the_known_ones(make_app):
    with pytest.raises(PluginError) as error:
        make_app(["categories", "realted_posts"])

    assert str(error.value).startswith("unknown plugin 'realted_posts' in [plugins] enabled")
    assert "found: " in str(error.value) and "categories" in str(error.value)


def test_plugin_enabled_twice_is_refused(make_app):
    with pytest.raises(PluginError, match="'categories' is enabled twice"):
        make_app(["categories", "categories"])


def test_a_misspelt_hook_stops_start_up(fake_plugins, make_app):
    fake_plugins(broken={"page_fragmnet": lambda slot, context: None})

    with pytest.raises(PluginError, match="'broken' implements an unknown hook 'page_fragmnet'"):
        make_app(["broken"])


def test_a_hook_with_an_argument_the_spec_lacks_is_refused(fake_plugins, make_app):
    fake_plugins(broken={"post_saved": lambda post, user: None})

    with pytest.raises(PluginError, match="'broken' failed to load"):
        make_app(["broken"])


def test_a_plugin_that_fails_to_import_is_named(make_app, monkeypatch):
    monkeypatch.setattr(
        "blog.plugins.available_plugins", lambda: {"ghost": ("no_such_module_here", "test")}
    )

    with pytest.raises(PluginError, match="plugin 'ghost' failed to load"):
        make_app(["ghost"])


def test_a_pip_installed_plugin_works_through_its_entry_point(hello_installed, make_app):
    app = make_app(["hello"], hello={"greeting": "Howdy"})
    slug = publish(app, "Greeted post")
    client = app.test_client()
    runner = app.test_cli_runner()

    assert available_plugins()["hello"] == ("pressroom_hello", "pressroom-hello")
    assert client.get("/hello/").text == "hello has seen 1 posts"
    assert "Howdy from the hello plugin" in client.get(f"/{slug}/").text
    assert runner.invoke(args=["hello", "greet", "Ada"]).output == "Howdy, Ada!\n"
    assert "hello" in runner.invoke(args=["plugins"]).output


def test_a_disabled_plugin_leaves_no_trace_and_keeps_its_data(hello_installed, migrated_app):
    with_hello = migrated_app(["hello"])
    slug = publish(with_hello, "Seen once")
    without = migrated_app([])  # the same database, plugin switched off
    client = without.test_client()

    assert client.get("/hello/").status_code == 404
    assert "hello-greeting" not in client.get(f"/{slug}/").text
    assert "hello" not in without.test_cli_runner().invoke(args=["--help"]).output
    assert migrated_app(["hello"]).test_client().get("/hello/").text == "hello has seen 1 posts"


def test_a_name_both_built_in_and_installed_is_an_error(monkeypatch):
    class FakeDist:
        name = "pressroom-categories-fork"

    clash = EntryPoint("categories", "fork", "pressroom.plugins")._for(FakeDist())
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [clash])

    with pytest.raises(PluginError, match="'categories' is both in plugins/ and in the package"):
        available_plugins()


def speaker(name):
    def page_fragment(slot, context):
        return Markup(f"<p>{name} speaks</p>") if slot == "sidebar" else None

    return {"page_fragment": page_fragment}


@pytest.mark.parametrize("order", [("first", "second"), ("second", "first")])
def test_fragments_come_in_config_order(order, fake_plugins, make_app):
    fake_plugins(first=speaker("first"), second=speaker("second"))
    app = make_app(order)

    page = app.test_client().get("/").text

    assert page.index(f"<p>{order[0]} speaks</p>") < page.index(f"<p>{order[1]} speaks</p>")
