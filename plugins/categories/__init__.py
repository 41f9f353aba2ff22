"""Category pages at /category/<slug>/, with category links on posts and in the navigation.

Settings, in instance/config.toml:

    [plugins.categories]
    nav_limit = 8      # how many categories the navigation shows (those with most posts)
"""

from flask import Blueprint, request, url_for
from markupsafe import Markup

from blog.plugin_api import hookimpl, plugin_config, render_fragment, until_site_changes
from plugins.categories import views

bp = Blueprint("categories", __name__, template_folder="templates")
views.register(bp)


def settings() -> dict:
    return plugin_config("categories", nav_limit=8)


@hookimpl
def register_blueprints():
    settings()  # a misspelt setting stops start-up, not the first page view
    return [bp]


@hookimpl
def category_address(slug):
    return url_for("categories.category", slug=slug)


@hookimpl
def sitemap_urls():
    return views.sitemap_urls()


@hookimpl
def page_fragment(slot, context):
    if slot == "post_meta" and context["post"].categories:
        return render_fragment("categories/_post_meta.html", post=context["post"])
    if slot == "nav":
        # The same on every page until the next write: kept, not read at every view.
        return until_site_changes(("categories.nav", request.script_root), navigation)
    return None


def navigation() -> Markup | None:
    categories = views.navigation_categories(settings()["nav_limit"])
    if categories:
        return render_fragment("categories/_nav.html", categories=categories)
    return None
