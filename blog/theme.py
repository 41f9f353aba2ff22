"""A site's own look, kept in its instance folder: templates and a stylesheet.

instance/templates/ wins over the theme's and the plugins' templates of the same
name (see create_app's loader); instance/static/ is served at /site/, and
instance/static/site.css, when there is one, is linked on every page after the
theme's own stylesheet, so its rules win.
"""

from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory, url_for

SITE_STYLESHEET = "site.css"


def site_static_folder() -> Path:
    return Path(current_app.instance_path, "static")


def serve_site_static(filename: str):
    folder = site_static_folder()
    if not folder.is_dir():
        abort(404)
    return send_from_directory(folder, filename, max_age=3600)


def site_stylesheet_url() -> str | None:
    """The site's own stylesheet (its address carries a fingerprint: blog/caching.py)."""
    if not (site_static_folder() / SITE_STYLESHEET).is_file():
        return None
    return url_for("site_static", filename=SITE_STYLESHEET)


def init_app(app: Flask) -> None:
    app.add_url_rule("/site/<path:filename>", "site_static", serve_site_static)
    app.jinja_env.globals["site_stylesheet_url"] = site_stylesheet_url
