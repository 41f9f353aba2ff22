"""The plugin host: find plugins, load the enabled ones, and give them their helpers."""

import importlib
import importlib.metadata
import pkgutil
from pathlib import Path
from types import ModuleType

import pluggy
from flask import Flask, current_app, render_template
from markupsafe import Markup, escape

from blog import hookspecs
from blog.config import ConfigError
from blog.feeds import FEED_LENGTH, atom_response  # noqa: F401 -- part of the plugin API
from blog.rendering import (  # noqa: F401 -- part of the plugin API
    count_links,
    plain_text,
    render_reader_markdown,
)
from blog.sitetime import local_time  # noqa: F401 -- times for people, in the site's zone
from blog.throttle import throttle  # noqa: F401 -- plugins rate-limit their forms with it
from blog.wordpress.content import to_markdown as wordpress_markdown  # noqa: F401 -- plugin API
from blog.wordpress.wxr import WxrComment  # noqa: F401 -- import/export hooks carry these

hookimpl = pluggy.HookimplMarker("pressroom")

ENTRY_POINT_GROUP = "pressroom.plugins"
BUILT_IN_PACKAGE = "plugins"
BUILT_IN_FOLDER = Path(__file__).resolve().parent.parent / BUILT_IN_PACKAGE
SLOTS = ("head", "nav", "post_meta", "post_footer", "sidebar", "admin_nav", "editor_sidebar")


class PluginError(Exception):
    """A plugin that cannot be loaded; the message names it."""


def available_plugins() -> dict[str, tuple[str, str]]:
    """Every plugin found: {name: (module path, source)}, built-ins and pip-installed."""
    found = {
        info.name: (f"{BUILT_IN_PACKAGE}.{info.name}", "plugins/")
        for info in pkgutil.iter_modules([str(BUILT_IN_FOLDER)])
        if info.ispkg
    }
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in found:
            raise PluginError(
                f"plugin {entry_point.name!r} is both in {found[entry_point.name][1]} "
                f"and in the package {entry_point.dist.name!r}; remove one"
            )
        found[entry_point.name] = (entry_point.value, entry_point.dist.name)
    return found


def load_plugins(app: Flask) -> pluggy.PluginManager:
    """Create this app's plugin manager with the plugins in [plugins] enabled."""
    pm = pluggy.PluginManager("pressroom")
    pm.add_hookspecs(hookspecs)
    found = available_plugins()
    enabled = app.config["PLUGINS"].get("enabled", [])
    duplicates = {name for name in enabled if enabled.count(name) > 1}
    if duplicates:
        raise PluginError(f"plugin {sorted(duplicates)[0]!r} is enabled twice")
    # pluggy calls the most recent registration first, so register in reverse:
    # fragments then come out in the order the owner wrote in config.toml.
    for name in reversed(enabled):
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise PluginError(f"unknown plugin {name!r} in [plugins] enabled (found: {known})")
        try:
            module = importlib.import_module(found[name][0])
            pm.register(module, name=name)
        except (ImportError, pluggy.PluginValidationError) as error:
            raise PluginError(f"plugin {name!r} failed to load: {error}") from error
    try:
        pm.check_pending()  # a misspelt hook name fails here, not silently later
    except pluggy.PluginValidationError as error:
        name = pm.get_name(error.plugin)
        hook = str(error).split("'")[1]
        raise PluginError(f"plugin {name!r} implements an unknown hook {hook!r}") from error
    app.extensions["pressroom.plugins"] = pm
    app.jinja_env.globals["fragments"] = fragments
    return pm


def plugin_manager(app: Flask | None = None) -> pluggy.PluginManager:
    return (app or current_app).extensions["pressroom.plugins"]


def hooks(app: Flask | None = None):
    """The hook caller of this app's plugins: hooks().post_saved(post=post)."""
    return plugin_manager(app).hook


def collect(results: list) -> list:
    """Flatten the lists that several plugins returned from one hook."""
    return [item for result in results if result for item in result]


def fragments(slot: str, **context) -> Markup:
    """Join the enabled plugins' HTML for `slot`, escaping any plain string."""
    if slot not in SLOTS:
        raise ValueError(f"unknown page slot {slot!r} (slots: {', '.join(SLOTS)})")
    parts = hooks().page_fragment(slot=slot, context=context)
    return Markup("\n").join(escape(part) for part in parts)


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


def migration_folders(app: Flask) -> list[Path]:
    """The versions folder of every plugin found, enabled or not.

    Plugins that are not enabled are asked through a throwaway manager that
    registers nothing on the app.
    """
    folders = []
    pm = pluggy.PluginManager("pressroom")
    pm.add_hookspecs(hookspecs)
    for name, (module_path, _source) in sorted(available_plugins().items()):
        try:
            module: ModuleType = importlib.import_module(module_path)
        except ImportError:
            continue  # it cannot run either; `flask plugins` shows the error
        if hasattr(module, "migrations_dir"):
            pm.register(module, name=name)
    for folder in pm.hook.migrations_dir():
        if folder:
            folders.append(Path(folder))
    return folders


def enabled_migration_branches(app: Flask) -> list[str]:
    """The Alembic branch labels `flask db upgrade` brings to head: the enabled plugins'."""
    pm = plugin_manager(app)
    return [
        impl.plugin_name
        for impl in reversed(pm.hook.migrations_dir.get_hookimpls())
        if has_revisions(impl.function())
    ]


def has_revisions(folder) -> bool:
    """A versions folder with at least one revision file (a new plugin's may be empty)."""
    return bool(folder) and any(
        path.suffix == ".py" and not path.name.startswith("_") for path in Path(folder).iterdir()
    )
