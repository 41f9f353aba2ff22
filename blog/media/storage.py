"""The media library: cleaned images stored in the library's store (the instance folder or
an object store, blog/media/stores.py) and in the attachment table, removed from both,
and served with headers that let caches keep them."""

import re
from pathlib import Path

from flask import Flask, abort, request
from flask_login import current_user

from blog import sharing
from blog.caching import site_changed
from blog.database import db
from blog.media import stores
from blog.media.images import FORMATS, MediaError, Rendition, open_image, renditions
from blog.media.stores import library, rendition_of
from blog.models import PUBLIC_STATUSES, Attachment, Post, User, attachment_use, utcnow
from blog.names import first_free, make_slug
from blog.page_cache import post_pages

URL_PREFIX = "/uploads/"
CHECKED_TYPES = {extension: mimetype for mimetype, extension in FORMATS.values()}
_RENDITION = re.compile(r"-\d+w(?=\.\w+$)")  # photo-640w.jpg is a size of photo.jpg


def free_stem(month: str, stem: str, extension: str) -> str:
    """`stem`, or `stem-2`, `stem-3`… so that no stored file is ever overwritten."""
    store = library()

    def taken(candidate: str) -> bool:
        sizes = rendition_of(candidate, extension)
        return store.exists(f"{month}/{candidate}.{extension}") or any(
            sizes.match(key.rpartition("/")[2])
            for key in store.keys_with_prefix(f"{month}/{candidate}-")
        )

    return first_free(stem, taken)


def write_files(month: str, base: str, extension: str, files: list[Rendition]) -> list[str]:
    """Write the renditions under a name no other upload has; their keys, in order."""
    store = library()
    for _attempt in range(10):
        stem = free_stem(month, base, extension)
        written: list[str] = []
        try:
            for rendition in files:
                key = f"{month}/{stem}{rendition.suffix}.{extension}"
                store.create(key, rendition.data, CHECKED_TYPES[extension])
                written.append(key)
            return written
        except FileExistsError:
            for key in written:
                store.delete(key)
        except BaseException:
            for key in written:
                store.delete(key)
            raise
    raise MediaError("Too many uploads with this file name at once; try again.", 409)


def store_image(data: bytes, filename: str, alt_text: str, uploader: User | None) -> Attachment:
    """Check, clean and store an uploaded image; the new Attachment, committed.

    Raises MediaError (nothing stored) when the file is refused.
    """
    try:
        attachment, written = add_image(data, filename, alt_text, uploader)
    except MediaError:
        raise  # refused before anything was written
    except BaseException:
        db.session.rollback()
        raise
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        remove_files(written)
        raise
    return attachment


def add_image(
    data: bytes, filename: str, alt_text: str, uploader: User | None
) -> tuple[Attachment, list[str]]:
    """Check, clean and store an image, its Attachment added to the session but not
    committed (an import commits once, at its end); (attachment, the keys written, for
    remove_files if the transaction is rolled back). MediaError: nothing stored."""
    image = open_image(data)
    pillow_format = image.format
    mime_type, extension = FORMATS[pillow_format]
    month = utcnow().strftime("%Y/%m")
    name = Path(filename or "").stem
    base = make_slug(name, max_length=60) or "image"
    files = renditions(image, pillow_format)
    written = write_files(month, base, extension, files)
    try:
        original = written[0]
        attachment = Attachment(
            url=f"{URL_PREFIX}{original}",
            path=original,
            title=name[:300] or "image",
            alt_text=" ".join(alt_text.split())[:500],
            mime_type=mime_type,
            width=files[0].width,
            height=files[0].height,
            size_bytes=sum(len(rendition.data) for rendition in files),
            srcset=", ".join(
                f"{URL_PREFIX}{key} {rendition.width}w"
                for key, rendition in sorted(
                    zip(written, files, strict=True), key=lambda pair: pair[1].width
                )
            ),
            uploader=uploader,
        )
        db.session.add(attachment)
        db.session.flush()
    except BaseException:
        remove_files(written)
        raise
    return attachment, written


def remove_files(keys: list[str]) -> None:
    for key in keys:
        library().delete(key)


def stored_files(attachment: Attachment) -> list[str]:
    """The keys of every file an uploaded attachment has (none for imported media)."""
    if not attachment.path:
        return []
    urls = {attachment.url} | {part.split()[0] for part in attachment.srcset.split(",") if part}
    return [url.removeprefix(URL_PREFIX) for url in urls if url.startswith(URL_PREFIX)]


def delete_attachment(attachment: Attachment) -> None:
    """Forget the attachment, then remove its files (kept if the database says no)."""
    files = stored_files(attachment)
    showing = db.session.scalars(
        db.select(attachment_use.c.post_id).where(attachment_use.c.attachment_id == attachment.id)
    ).all()
    if showing:  # their pages lose the image (or show a broken one until saved again)
        site_changed(*map(post_pages, showing))
    db.session.delete(attachment)
    db.session.commit()
    for key in files:
        library().delete(key)


def attachment_at(filename: str) -> Attachment | None:
    """The library file stored at `filename`, an original or one of its sizes."""
    candidates = {filename, _RENDITION.sub("", filename)}
    return db.session.scalar(db.select(Attachment).where(Attachment.path.in_(candidates)).limit(1))


def shown_in_public(attachment_id: int) -> bool:
    """Whether a post everyone may read shows the file (in its body, or as its image)."""
    return bool(
        db.session.scalar(
            db.select(
                db.select(attachment_use.c.post_id)
                .join(Post, Post.id == attachment_use.c.post_id)
                .where(
                    attachment_use.c.attachment_id == attachment_id,
                    Post.status.in_(PUBLIC_STATUSES),
                )
                .exists()
            )
        )
    )


def may_see_unpublished(attachment: Attachment) -> bool:
    """An upload no public post shows yet: for editors and admins, its uploader, authors of
    posts that show it, and readers of a share link of a post that shows it."""
    uses = db.select(attachment_use.c.post_id).where(
        attachment_use.c.attachment_id == attachment.id
    )
    if current_user.is_authenticated:
        if current_user.edits_every_post or attachment.uploader_id == current_user.id:
            return True
        mine = uses.join(Post, Post.id == attachment_use.c.post_id).where(
            Post.author_id == current_user.id
        )
        if db.session.scalar(db.select(mine.exists())):
            return True
    shared = sharing.shared_post_id(request.args.get("share", ""))
    return shared is not None and bool(
        db.session.scalar(db.select(uses.where(attachment_use.c.post_id == shared).exists()))
    )


def serve_upload(filename: str):
    """A library file, as the type it was checked to be when it was uploaded.

    A file that a post everyone may read shows is public, and caches may keep it for a
    year: files are never rewritten under the same name (free_stem). Any other (uploaded,
    not yet in a published post, or only in drafts) is answered only to those who may
    see it, and kept by no cache; to everyone else it does not exist.
    """
    mimetype = CHECKED_TYPES.get(filename.rpartition(".")[2].lower())
    attachment = attachment_at(filename) if mimetype else None
    if attachment is None:
        abort(404)  # not a file of the library: nothing else is served from the folder
    public = shown_in_public(attachment.id)
    if not public and not may_see_unpublished(attachment):
        abort(404)
    response = library().response(filename, mimetype, Path(filename).name)
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if public else "private, no-store"
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def init_app(app: Flask) -> None:
    stores.init_app(app)
    app.add_url_rule("/uploads/<path:filename>", "uploads", serve_upload)
