"""`flask --app app comments list|approve|spam|delete`."""

import click
from sqlalchemy.orm import joinedload

from blog.database import db
from blog.plugin_api import local_time
from plugins.comments.changes import set_status
from plugins.comments.models import STATUSES, Comment


@click.command("list")
@click.option("--status", type=click.Choice(STATUSES))
def list_comments(status):
    """One comment a line: id, status, date, post, author, start of the text."""
    query = (
        db.select(Comment)
        .options(joinedload(Comment.post))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )
    if status:
        query = query.where(Comment.status == status)
    for comment in db.session.scalars(query):
        text = " ".join(comment.body.split())[:50]
        click.echo(
            f"{comment.id:>6} {comment.status:<8} {local_time(comment.created_at)} "
            f"/{comment.post.path}/  {comment.author_name} <{comment.author_email}>: {text}"
        )


def change(ids: tuple[int, ...], status: str | None) -> None:
    comments = db.session.scalars(db.select(Comment).where(Comment.id.in_(ids))).all()
    missing = sorted(set(ids) - {comment.id for comment in comments})
    if missing:
        raise click.ClickException(f"no comment with id {', '.join(map(str, missing))}")
    set_status(comments, status)
    click.echo(f"{'Deleted' if status is None else status.title()}: {len(comments)} comment(s).")


@click.command("approve")
@click.argument("ids", nargs=-1, type=int, required=True)
def approve(ids):
    """Approve comments by id."""
    change(ids, "approved")


@click.command("spam")
@click.argument("ids", nargs=-1, type=int, required=True)
def spam(ids):
    """Mark comments as spam by id."""
    change(ids, "spam")


@click.command("delete")
@click.argument("ids", nargs=-1, type=int, required=True)
def delete(ids):
    """Delete comments (and their replies) by id."""
    change(ids, None)


commands = [list_comments, approve, spam, delete]
