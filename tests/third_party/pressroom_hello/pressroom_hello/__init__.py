"""Hello: greets readers under each post and counts the posts it has seen saved.

Settings, in instance/config.toml:

    [plugins.hello]
    greeting = "Hello"   # the words shown under each post
"""

from pathlib import Path

import click
from flask import Blueprint

from blog.database import db
from blog.plugin_api import hookimpl, plugin_config, render_fragment
from pressroom_hello.models import HelloSeen

bp = Blueprint("hello", __name__, template_folder="templates", url_prefix="/hello")


@bp.route("/")
def index():
    seen = db.session.scalar(db.select(db.func.count(HelloSeen.post_id)))
    return f"hello has seen {seen} posts"


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def page_fragment(slot, context):
    if slot == "post_footer":
        greeting = plugin_config("hello", greeting="Hello")["greeting"]
        return render_fragment("hello/_greeting.html", greeting=greeting, post=context["post"])
    if slot == "sidebar":
        return "<b>plain strings are escaped</b>"
    return None


@hookimpl
def post_saved(post):
    if db.session.get(HelloSeen, post.id) is None:
        db.session.add(HelloSeen(post_id=post.id, title=post.title))


@hookimpl
def post_deleted(post):
    seen = db.session.get(HelloSeen, post.id)
    if seen is not None:
        db.session.delete(seen)


@click.command("greet")
@click.argument("name")
def greet(name):
    """Print a greeting."""
    click.echo(f"{plugin_config('hello', greeting='Hello')['greeting']}, {name}!")


@hookimpl
def register_commands():
    return [greet]


@hookimpl
def migrations_dir():
    return Path(__file__).parent / "migrations"
