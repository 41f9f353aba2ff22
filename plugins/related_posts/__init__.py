"""Related posts: under each post, the posts closest to it in meaning.

Settings, in instance/config.toml:

    [plugins.related_posts]
    count = 3                # how many posts the box shows
    min_score = 0.1          # picks scoring lower are left out (the box may show fewer)
    category_fallback = true # a post with no picks yet shows the newest of its categories

The ranking (ranking.py) is measured on a labelled corpus by bench/related_quality.py.
Its index is kept in step with every save, and relearns itself from all posts in a
background job after an import and whenever a tenth of the blog has been saved since
the last time (index.refresh_due); `flask --app app related_posts rebuild` does it now.
"""

from pathlib import Path

import click
from flask import Blueprint

from blog.database import db
from blog.plugin_api import (
    enqueue,
    hookimpl,
    plugin_config,
    render_fragment,
    site_changed,
    task,
)
from plugins.related_posts import index
from plugins.related_posts.models import HiddenBox
from plugins.related_posts.picks import picks_for

# No routes: the blueprint is how Flask finds templates/related_posts/.
bp = Blueprint("related_posts", __name__, template_folder="templates")
HIDE_FIELD = "related_posts_hide"
EDITOR_MARK = "related_posts_editor"  # says the editor sent our checkbox (or its absence)


def settings() -> dict:
    return plugin_config("related_posts", count=3, min_score=0.1, category_fallback=True)


@hookimpl
def register_blueprints():
    settings()  # a misspelt setting stops start-up
    return [bp]


@hookimpl
def page_fragment(slot, context):
    if slot == "post_footer":
        post = context["post"]
        if not post.is_listed:
            return None
        config = settings()
        related = picks_for(post, config["count"], config["min_score"], config["category_fallback"])
        if related:
            return render_fragment("related_posts/box.html", posts=related)
    if slot == "editor_sidebar":
        post = context["post"]
        hidden = post is not None and db.session.get(HiddenBox, post.id) is not None
        return render_fragment(
            "related_posts/_editor.html", hidden=hidden, field=HIDE_FIELD, mark=EDITOR_MARK
        )
    return None


@hookimpl
def post_saved(post, form, importing):
    if importing:
        return  # import_finished learns every imported post at once
    if form.get(EDITOR_MARK):
        hidden = db.session.get(HiddenBox, post.id)
        if form.get(HIDE_FIELD) and hidden is None:
            db.session.add(HiddenBox(post_id=post.id))
        elif not form.get(HIDE_FIELD) and hidden is not None:
            db.session.delete(hidden)
    index.update_post(post)
    if post.is_listed and index.refresh_due():
        enqueue("related_posts.rebuild")  # new words and subjects: relearn, off the request


@hookimpl
def post_deleted(post):
    index.remove_post(post.id)


@hookimpl
def import_finished(post_ids, summary):
    # One rebuild learns the new posts' themes and fills every box at once, in a background
    # job (a large import must not hold the request or command); a re-import that brought
    # nothing new leaves the index alone.
    if summary.created["posts"]:
        enqueue("related_posts.rebuild")


@task("related_posts.rebuild")
def rebuild_in_background():
    index.rebuild()
    site_changed()  # every box may show other posts now


@click.command("rebuild")
def rebuild():
    """Relearn the ranking from every published post and recompute every box."""
    bars = {}

    def progress(stage, done, total):
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = click.progressbar(length=max(total, 1), label=stage.ljust(16))
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    try:
        total = index.rebuild(progress)
        site_changed()  # every box may show other posts now
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Indexed {total} published posts.")


@hookimpl
def register_commands():
    return [rebuild]


@hookimpl
def migrations_dir():
    return Path(__file__).parent / "migrations"
