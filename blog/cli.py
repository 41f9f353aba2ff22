"""The command line: flask --app app db|user|post|plugins ..."""

import signal
import sys
from pathlib import Path

import click
import flask_migrate
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from blog import backup as backups
from blog import jobs, scheduling, search
from blog.accounts import AccountError, create_account
from blog.auth import password_link
from blog.command_errors import database_errors, fail
from blog.database import db, refresh_planner_statistics
from blog.doctor import doctor
from blog.editing import PostData, PostError, categories_from_names, save_post, tags_from_names
from blog.models import ROLES, STATUSES, Post, User
from blog.plugins import (
    available_plugins,
    describe,
    enabled_migration_branches,
    plugin_manager,
)
from blog.proxy import site_url
from blog.security_log import record
from blog.wordpress.commands import export_cli, import_cli

db_cli = AppGroup("db", help="Create and upgrade the database.")
user_cli = AppGroup("user", help="Manage accounts.")
post_cli = AppGroup("post", help="Create and list posts.")


@db_cli.command("upgrade")
@database_errors
def upgrade():
    """Apply the core's and every enabled plugin's migrations."""
    flask_migrate.upgrade(revision="core@head")
    for branch in enabled_migration_branches(current_app):
        flask_migrate.upgrade(revision=f"{branch}@head")
    click.echo("Database is up to date.")


@user_cli.command("password-link")
@click.argument("name")
@database_errors
def make_password_link(name):
    """Print a link with which NAME chooses a password (imported authors have none)."""
    user = db.session.scalar(db.select(User).where(User.username == name.strip().lower()))
    if user is None:
        fail(f"no account named {name!r}")
    click.echo(password_link(user))
    record("password-link", user, detail="made on the command line")
    db.session.commit()


@user_cli.command("create")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="author", show_default=True)
@click.password_option(help="Asked for twice when not given.")
@database_errors
def create_user(name, email, role, password):
    """Create an account."""
    try:
        create_account(name, email, role=role, password=password)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        option = {"username": f"NAME {name!r}", "email": f"--email {email!r}"}
        fail(f"{option.get(error.field, '--' + error.field)}: {error}")
    click.echo(f"Created {role} {name.strip().lower()!r}.")


@post_cli.command("create")
@click.option("--title", required=True)
@click.option("--category", "categories", multiple=True, help="Repeat for several; created if new.")
@click.option("--tag", "tags", multiple=True, help="Repeat for several; created if new.")
@click.option("--author", help="User name; defaults to the only admin.")
@click.option("--status", type=click.Choice(STATUSES), default="draft", show_default=True)
@click.option("--slug", default="")
@database_errors
def create_post(title, categories, tags, author, status, slug):
    """Create a post with the Markdown body from standard input; print its URL."""
    user = find_author(author)
    body = sys.stdin.read() if not sys.stdin.isatty() else ""
    try:
        data = PostData(
            title=title,
            body=body,
            slug=slug,
            status=status,
            categories=categories_from_names(list(categories), create=True),
            tags=tags_from_names(list(tags)),
        )
        post = save_post(data, author=user)
    except PostError as error:
        db.session.rollback()
        fail(f"--{error.field}: {error}")
    click.echo(f"{site_url()}/{post.path}/")


def find_author(name: str | None) -> User:
    if name:
        user = db.session.scalar(db.select(User).where(User.username == name.lower()))
        if user is None:
            fail(f"--author: no user named {name!r}")
        return user
    admins = db.session.scalars(db.select(User).where(User.role == "admin").limit(2)).all()
    if len(admins) != 1:
        fail("--author is needed: " + ("no admin exists yet" if not admins else "several admins"))
    return admins[0]


@post_cli.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@database_errors
def list_posts(status):
    """One post a line: status, date, URL path, title."""
    query = db.select(Post).order_by(Post.created_at.desc(), Post.id.desc())
    if status:
        query = query.where(Post.status == status)
    for post in db.session.scalars(query):
        click.echo(f"{post.status:<10} {post.date:%Y-%m-%d} /{post.path}/  {post.title}")


@click.command("plugins")
@with_appcontext
def list_plugins():
    """List the plugins found, whether each is enabled, and where it comes from."""
    enabled = current_app.config["PLUGINS"].get("enabled", [])
    for name, (module_path, source) in sorted(available_plugins().items()):
        summary = describe(module_path)  # read from the file: a disabled plugin is not imported
        state = "enabled " if name in enabled else "disabled"
        click.echo(f"{name:<16} {state} {source:<14} {summary}")


def add_plugin_commands(app, plugin_name: str, commands: list) -> None:
    """Put a plugin's commands under `flask --app app <plugin> ...`."""

    # The group's callback pushes the app context that its subcommands then run in,
    # so a plugin's plain click commands need no Flask decorator of their own.
    @click.group(plugin_name, cls=AppGroup, help=f"Commands of the {plugin_name} plugin.")
    @with_appcontext
    def group():
        pass

    for command in commands or []:
        group.add_command(command)
    app.cli.add_command(group)


@click.command("publish-due")
@with_appcontext
@database_errors
def publish_due():
    """Publish scheduled posts whose time has come (for cron; the site also does it)."""
    published, failed = scheduling.publish_due()
    for post in published:
        click.echo(f"Published: {post.title} (/{post.path}/)")
    for failure in failed:
        click.echo(f"Failed: {failure.title} (post {failure.post_id}): {failure.reason}", err=True)
    if not published and not failed:
        click.echo("Nothing is due.")
    if failed:
        sys.exit(1)


@click.command("search-rebuild")
@with_appcontext
@database_errors
def search_rebuild():
    """Index every post for search afresh, in [site] language (after changing it by hand)."""
    count = search.rebuild()
    db.session.commit()
    refresh_planner_statistics()
    click.echo(f"Indexed {count} posts for search.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then stop.")
@with_appcontext
def worker(burst):
    """Run background jobs (email, rebuilds) until stopped: RQ with REDIS_URL, else the
    job table (which serving processes also work, unless [jobs] in_process = false)."""
    queue = jobs.the_queue()
    if isinstance(queue, jobs.DatabaseQueue):

        def stop(signum, frame):
            queue.stopped.set()
            queue.wanted.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    click.echo(
        f"Worker on the {type(queue).__name__}: " + ("due jobs" if burst else "Ctrl-C stops")
    )
    queue.work(burst=burst)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@database_errors
def backup(file):
    """Write the whole site (every table, the uploads, the site's own files) to FILE."""
    try:
        manifest = backups.write_backup(file)
    except OSError as error:
        fail(f"{file}: {error.strerror or error}")
    rows, files = sum(manifest["tables"].values()), backups.file_count(manifest)
    click.echo(f"Backed up {rows} rows of {len(manifest['tables'])} tables and {files} files "
               f"to {file} ({file.stat().st_size:,} bytes).")  # fmt: skip


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@database_errors
def restore(file):
    """Bring the backup FILE into this empty instance (on any database engine)."""
    try:
        manifest = backups.restore_backup(file)
    except backups.BackupError as error:
        fail(str(error))
    except OSError as error:
        fail(f"{error.filename or file}: {error.strerror or error}")
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        fail(f"restore failed and was undone: {reason}")
    rows, files = sum(manifest["tables"].values()), backups.file_count(manifest)
    click.echo(f"Restored {rows} rows of {len(manifest['tables'])} tables and {files} files "
               f"from {file} (made {manifest['made_at']} on {manifest['engine']}).")  # fmt: skip


def init_app(app) -> None:
    commands = (db_cli, user_cli, post_cli, list_plugins, publish_due, search_rebuild,
                import_cli, export_cli, worker, doctor, backup, restore)  # fmt: skip
    for command in commands:
        app.cli.add_command(command)
    pm = plugin_manager(app)
    for impl in pm.hook.register_commands.get_hookimpls():
        add_plugin_commands(app, impl.plugin_name, impl.function())
