"""The plugin host: find plugins, load the enabled ones, and call their hooks.

What plugins themselves use of the core is in blog/plugin_api.py. A plugin that is
not enabled is never imported: its migrations folder and its description are found
from its package's files (see migration_folders and describe).
"""

import ast
import importlib
import importlib.metadata
import importlib.util
import pkgutil
from pathlib import Path

import pluggy
from flask import Flask, current_app
from markupsafe import Markup, escape

from blog import hookspecs

ENTRY_POINT_GROUP = "pressroom.plugins"
BUILT_IN_PACKAGE = "plugins"
BUILT_IN_FOLDER = Path(__file__).resolve().parent.parent / BUILT_IN_PACKAGE
SLOTS = ("head", "nav", "post_meta", "post_footer", "sidebar", "admin_nav", "editor_sidebar")
MIGRATIONS_FOLDER = "migrations"  # a plugin's Alembic branch, beside its __init__.py


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
        # Hooks that plugins offer each other (the comments plugin's comment_posted);
        # pluggy checks the implementations already registered against them here.
        for specs in collect(pm.hook.register_hookspecs()):
            pm.add_hookspecs(specs)
        pm.check_pending()  # a misspelt hook name fails here, not silently later
    except pluggy.PluginValidationError as error:
        name = pm.get_name(error.plugin)
        hook = str(error).split("'")[1]
        raise PluginError(f"plugin {name!r} implements an unknown hook {hook!r}") from error
    check_migration_folders(pm)
    app.extensions["pressroom.plugins"] = pm
    app.jinja_env.globals["fragments"] = fragments
    return pm


def plugin_manager(app: Flask | None = None) -> pluggy.PluginManager:
    return (app or current_app).extensions["pressroom.plugins"]


def hooks(app: Flask | None = None):
    """The hook caller of this app's plugins: hooks().post_saved(post=post, form={})."""
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


def package_folder(module_path: str) -> Path | None:
    """Where a plugin's package lies, found without running its code (None: not found)."""
    try:
        spec = importlib.util.find_spec(module_path)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def check_migration_folders(pm: pluggy.PluginManager) -> None:
    """An enabled plugin's migrations_dir must be the package's migrations/ folder, where
    it is looked for while the plugin is off."""
    for impl in pm.hook.migrations_dir.get_hookimpls():
        folder, package_file = impl.function(), getattr(impl.plugin, "__file__", None)
        if not folder or package_file is None:
            continue
        expected = Path(package_file).resolve().parent / MIGRATIONS_FOLDER
        if Path(folder).resolve() != expected:
            raise PluginError(
                f"plugin {impl.plugin_name!r}: migrations_dir() must return {expected}, "
                f"not {folder}"
            )


def migration_folders(app: Flask) -> list[Path]:
    """The versions folder of every plugin found, enabled or not.

    A disabled plugin's is found beside its package's files, without importing it.
    """
    pm = plugin_manager(app)
    folders = {impl.plugin_name: impl.function() for impl in pm.hook.migrations_dir.get_hookimpls()}
    for name, (module_path, _source) in sorted(available_plugins().items()):
        if name not in folders and not pm.has_plugin(name):
            package = package_folder(module_path)
            if package is not None and has_revisions(package / MIGRATIONS_FOLDER):
                folders[name] = package / MIGRATIONS_FOLDER
    return [Path(folder) for _name, folder in sorted(folders.items()) if folder]


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
    return (
        bool(folder)
        and Path(folder).is_dir()
        and any(
            path.suffix == ".py" and not path.name.startswith("_")
            for path in Path(folder).iterdir()
        )
    )


def describe(module_path: str) -> str:
    """The first line of a plugin's docstring, read from its file without importing it."""
    try:
        spec = importlib.util.find_spec(module_path)
    except (ImportError, ValueError) as error:
        return f"cannot be found: {error}"
    if spec is None or not spec.origin or not Path(spec.origin).is_file():
        return "cannot be found"
    try:
        doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""
    except (SyntaxError, UnicodeDecodeError, OSError) as error:
        return f"cannot be read: {error}"
    return doc.strip().splitlines()[0] if doc.strip() else ""
