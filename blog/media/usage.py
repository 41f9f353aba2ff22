"""Which posts show which library files: kept in step by every save and import
(blog/editing.py), read by the media library before a file is deleted."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import text

from blog.database import db
from blog.media.storage import URL_PREFIX
from blog.models import Attachment, Post, User, attachment_use

# Where a post points at a file: Markdown and HTML link and image targets.
_address = re.compile(r"""https?://[^\s()<>"'\]]+|/uploads/[^\s()<>"'\]]+""")
_wordpress_size = re.compile(r"-\d+x\d+(?=\.\w+$)")  # photo-300x200.jpg is photo.jpg resized


def addresses_in(body: str) -> set[str]:
    """Every address in a post body that may be a file in the library."""
    found = set()
    for match in _address.finditer(body):
        for address in (match.group(0), _wordpress_size.sub("", match.group(0))):
            found.add(address)
            path = urlsplit(address).path
            if path.startswith(URL_PREFIX):  # this site's upload, written with its host
                found.add(path)
    return found


def record_uses(
    post_id: int, body: str, featured_image_id: int | None, files: dict[str, int] | None = None
) -> None:
    """Note which library files the post shows (part of the post's save).

    `files` (address -> attachment id, every file) spares an importer a query per post.
    """
    addresses = sorted(addresses_in(body))
    used = {featured_image_id} if featured_image_id else set()
    if files is not None:
        used.update(files[address] for address in addresses if address in files)
    else:
        for start in range(0, len(addresses), 500):
            chunk = addresses[start : start + 500]
            found = db.session.scalars(db.select(Attachment.id).where(Attachment.url.in_(chunk)))
            used.update(found)
    db.session.execute(db.delete(attachment_use).where(attachment_use.c.post_id == post_id))
    if used:
        rows = [{"attachment_id": file_id, "post_id": post_id} for file_id in used]
        db.session.execute(db.insert(attachment_use), rows)


def rebuild_uses(connection) -> None:
    """Note the uses of every post afresh (the migration that made the table does it).

    Plain SQL, so that it runs on the schema of its migration, whatever the models become.
    """
    ids = dict(connection.execute(text("SELECT url, id FROM attachment")).all())
    connection.execute(text("DELETE FROM attachment_use"))
    batch = text(
        "SELECT id, body, featured_image_id FROM post WHERE id > :last ORDER BY id LIMIT 500"
    )
    insert = text("INSERT INTO attachment_use (attachment_id, post_id) VALUES (:file, :post)")
    last = 0
    while posts := connection.execute(batch, {"last": last}).all():
        rows = []
        for post_id, body, featured_image_id in posts:
            used = {ids[address] for address in addresses_in(body or "") if address in ids}
            used |= {featured_image_id} if featured_image_id else set()
            rows += [{"file": file_id, "post": post_id} for file_id in used]
        if rows:
            connection.execute(insert, rows)
        last = posts[-1][0]


@dataclass
class PostShowing:
    """A post that shows a file; `title` None when the viewer may not know it (another
    author's draft): counted, never named."""

    id: int
    title: str | None


def uses_of(attachment_ids: list[int], viewer: User) -> dict[int, list[PostShowing]]:
    """The posts that show each of these files (ids and titles only: a logo may be in
    every post). A post `viewer` may neither edit nor read in public keeps its title
    to itself: an author learns that a file is used, not what another's draft is called."""
    rows = db.session.execute(
        db.select(attachment_use.c.attachment_id, Post.id, Post.title, Post.status, Post.author_id)
        .join(Post, Post.id == attachment_use.c.post_id)
        .where(attachment_use.c.attachment_id.in_(attachment_ids))
        .order_by(Post.title)
    ).all()
    sees_all = viewer.edits_every_post
    uses: dict[int, list[PostShowing]] = {}
    for attachment_id, post_id, title, status, author_id in rows:
        known = sees_all or author_id == viewer.id or status == "published"
        uses.setdefault(attachment_id, []).append(PostShowing(post_id, title if known else None))
    return uses
