"""flask --app app import wordpress FILE / export wordpress FILE."""

from pathlib import Path

import click
from flask.cli import AppGroup

from blog.command_errors import database_errors, fail
from blog.wordpress.exporter import export_wordpress
from blog.wordpress.items import WxrError

import_cli = AppGroup("import", help="Bring content over from another blog engine.")
export_cli = AppGroup("export", help="Write the site's content for another blog engine.")


@import_cli.command("wordpress")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Report what would be created; change nothing.")
@click.option(
    "--media",
    is_flag=True,
    help="Download the export's images into the uploads and point the posts at them.",
)
@database_errors
def import_command(file, dry_run, media):
    """Import a WordPress export (Tools → Export → All content) in one transaction."""
    with click.progressbar(
        length=1, label="Importing", show_pos=True, item_show_func=lambda text: text
    ) as bar:

        def progress(done, total, comments):
            bar.length = max(total, 1)
            bar.update(done - bar.pos, f"{comments} comments")

        # The importer brings lxml and markdownify: loaded when an import runs, not at start-up.
        from blog.wordpress.importer import import_wordpress

        try:
            from blog.media.remote import Policy

            policy = Policy() if media else None
            summary = import_wordpress(str(file), dry_run=dry_run, progress=progress, media=policy)
        except WxrError as error:
            fail(f"{file}: {error}; nothing was imported")
    if dry_run:
        click.echo("Dry run: nothing was written. The import would give:")
    for line in summary.lines():
        click.echo(f"  {line}")


@export_cli.command("wordpress")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@database_errors
def export_command(file):
    """Write every post, page, category, tag, author and comment as WordPress WXR 1.2."""
    partial = file.with_name(file.name + ".partial")
    try:
        with partial.open("wb") as out:
            counts = export_wordpress(out)
        partial.replace(file)  # a failed export never leaves a half-written FILE
    except OSError as error:
        partial.unlink(missing_ok=True)
        fail(f"{file}: {error.strerror}")
    click.echo(f"Wrote {file}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
