"""Uploaded images: checked, cleaned, resized and stored under instance/uploads/.

An upload is trusted only after Pillow has decoded it as one of a few raster formats;
SVG and anything else is refused (an SVG is a document that can carry script). The
stored files are written afresh from the decoded pixels, so no metadata survives:
no EXIF (camera, GPS location), no XMP/IPTC text, no PNG text chunks; a colour
profile is applied to the pixels (converted to sRGB) rather than kept. Each image is
saved at its own size (at most MAX_WIDTH) and at the smaller WIDTHS, which pages
offer the browser through `srcset`.
"""

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, send_from_directory
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from slugify import slugify
from sqlalchemy import text

from blog.database import db
from blog.models import Attachment, Post, User, attachment_use, utcnow

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before its pixels are unpacked
MAX_WIDTH = 2400  # wider originals are scaled down; no page shows more
WIDTHS = (480, 960, 1600)
# Pillow format name -> (MIME type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
URL_PREFIX = "/uploads/"


class MediaError(ValueError):
    """An upload that is refused; the message says why, for the author.

    `status` is the HTTP status that fits: 413 too large, 415 not an accepted image,
    422 an image that cannot be used.
    """

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass
class Rendition:
    suffix: str  # "" for the main file, "-480w" for a smaller copy
    width: int
    height: int
    data: bytes


def uploads_folder() -> Path:
    return Path(current_app.instance_path, "uploads")


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def open_image(data: bytes) -> Image.Image:
    """Decode `data` fully, or raise MediaError saying what is wrong with it."""
    if not data:
        raise MediaError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise MediaError(
            f"The file is {megabytes(len(data))}; "
            f"images up to {megabytes(MAX_BYTES)} are accepted.",
            413,
        )
    if data.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in data[:1024].lower():
        raise MediaError(
            "SVG images are not accepted: they can carry scripts. Upload a PNG or JPEG instead.",
            415,
        )
    too_many_pixels = f"The image has too many pixels: up to {MAX_PIXELS // 1_000_000} megapixels."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width * image.height > MAX_PIXELS:  # read from the header, not unpacked
                raise MediaError(too_many_pixels)
            image.load()
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MediaError(too_many_pixels) from None
    except UnidentifiedImageError:
        raise MediaError("That file is not a JPEG, PNG, GIF or WebP image.", 415) from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or corrupt data
        raise MediaError(f"The image is damaged and cannot be read ({error}).") from None
    return image


def to_srgb(image: Image.Image) -> Image.Image:
    """Apply an embedded colour profile to the pixels, so the profile can be dropped."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError):
        return image  # a broken profile: the pixels as they are


def encode(image: Image.Image, pillow_format: str, animated: bool = False) -> bytes:
    """The pixels in `pillow_format`, with no metadata (Pillow writes none unless asked)."""
    out = io.BytesIO()
    if pillow_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif pillow_format == "GIF":
        image.save(out, "GIF", save_all=animated, optimize=False)
    elif pillow_format == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def free_stem(folder: Path, stem: str, extension: str) -> str:
    """`stem`, or `stem-2`, `stem-3`… so that no stored file is ever overwritten."""
    candidate, number = stem, 1
    while (folder / f"{candidate}.{extension}").exists() or any(
        folder.glob(f"{candidate}-*w.{extension}")
    ):
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def renditions(image: Image.Image, pillow_format: str) -> list[Rendition]:
    """The image at its own size (capped at MAX_WIDTH), then at each smaller width."""
    animated = getattr(image, "is_animated", False)
    if not animated:
        image = to_srgb(ImageOps.exif_transpose(image))  # turn it upright, then forget EXIF
    if pillow_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if animated:  # resizing would drop the animation: one copy, re-encoded frame by frame
        data = encode(image, pillow_format, animated=True)
        return [Rendition("", image.width, image.height, data)]
    if image.width > MAX_WIDTH:
        image = image.resize((MAX_WIDTH, round(image.height * MAX_WIDTH / image.width)))
    result = [Rendition("", image.width, image.height, encode(image, pillow_format))]
    for width in WIDTHS:
        if width < image.width * 0.9:  # a copy barely smaller is not worth a download
            height = max(1, round(image.height * width / image.width))
            smaller = image.resize((width, height), Image.Resampling.LANCZOS)
            data = encode(smaller, pillow_format)
            result.append(Rendition(f"-{width}w", width, height, data))
    return result


def write_files(folder: Path, base: str, extension: str, files: list[Rendition]) -> list[Path]:
    """Write the renditions under a name no other upload has; their paths, in order."""
    for _attempt in range(10):
        stem = free_stem(folder, base, extension)
        written: list[Path] = []
        try:
            for rendition in files:
                target = folder / f"{stem}{rendition.suffix}.{extension}"
                with open(target, "xb") as out:  # "x": another upload may have just taken it
                    written.append(target)
                    out.write(rendition.data)
            return written
        except FileExistsError:
            for path in written:
                path.unlink(missing_ok=True)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
    raise MediaError("Too many uploads with this file name at once; try again.", 409)


def store_image(data: bytes, filename: str, alt_text: str, uploader: User | None) -> Attachment:
    """Check, clean and store an uploaded image; the new Attachment, committed.

    Raises MediaError (nothing stored) when the file is refused.
    """
    image = open_image(data)
    pillow_format = image.format
    mime_type, extension = FORMATS[pillow_format]
    month = utcnow().strftime("%Y/%m")
    folder = uploads_folder() / month
    folder.mkdir(parents=True, exist_ok=True)
    name = Path(filename or "").stem
    base = slugify(name, max_length=60, word_boundary=True) or "image"
    files = renditions(image, pillow_format)
    written = write_files(folder, base, extension, files)
    try:
        original = f"{month}/{written[0].name}"
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
                f"{URL_PREFIX}{month}/{path.name} {rendition.width}w"
                for path, rendition in sorted(
                    zip(written, files, strict=True), key=lambda pair: pair[1].width
                )
            ),
            uploader=uploader,
        )
        db.session.add(attachment)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return attachment


def stored_files(attachment: Attachment) -> list[Path]:
    """Every file an uploaded attachment has on disk (none for imported media)."""
    if not attachment.path:
        return []
    urls = {attachment.url} | {part.split()[0] for part in attachment.srcset.split(",") if part}
    root = uploads_folder()
    return [root / url.removeprefix(URL_PREFIX) for url in urls if url.startswith(URL_PREFIX)]


def delete_attachment(attachment: Attachment) -> None:
    """Forget the attachment, then remove its files (kept if the database says no)."""
    files = stored_files(attachment)
    db.session.delete(attachment)
    db.session.commit()
    for path in files:
        path.unlink(missing_ok=True)


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
    id: int
    title: str


def uses_of(attachment_ids: list[int]) -> dict[int, list[PostShowing]]:
    """The posts that show each of these files, by title (ids and titles only: a logo
    may be in every post)."""
    rows = db.session.execute(
        db.select(attachment_use.c.attachment_id, Post.id, Post.title)
        .join(Post, Post.id == attachment_use.c.post_id)
        .where(attachment_use.c.attachment_id.in_(attachment_ids))
        .order_by(Post.title)
    ).all()
    uses: dict[int, list[PostShowing]] = {}
    for attachment_id, post_id, title in rows:
        uses.setdefault(attachment_id, []).append(PostShowing(post_id, title))
    return uses


def markdown_for(attachment: Attachment) -> str:
    alt = attachment.alt_text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return f"![{alt}]({attachment.url})"


_uploaded_img = re.compile(r'<img src="(/uploads/[^"]+)"([^>]*)>')
# Pages are at most this wide (style.css, --measure); phones use the whole screen.
SIZES = "(max-width: 46rem) 100vw, 46rem"


def responsive_images(html: str) -> str:
    """Give every uploaded image in sanitised post HTML its srcset, size and lazy loading.

    Runs after the sanitiser, on its normalised output; the attributes come from our
    own table, never from the author.
    """
    urls = set(_uploaded_img.findall(html))
    if not urls:
        return html
    found = {
        attachment.url: attachment
        for attachment in db.session.scalars(
            db.select(Attachment).where(Attachment.url.in_([url for url, _ in urls]))
        )
    }

    def enrich(match: re.Match) -> str:
        attachment = found.get(match.group(1))
        if attachment is None or not attachment.srcset:
            return match.group(0)
        extra = f' srcset="{attachment.srcset}" sizes="{SIZES}"'
        if attachment.width and attachment.height and "width=" not in match.group(2):
            extra += f' width="{attachment.width}" height="{attachment.height}"'
        if "loading=" not in match.group(2):
            extra += ' loading="lazy"'
        return f'<img src="{match.group(1)}"{match.group(2)}{extra}>'

    return _uploaded_img.sub(enrich, html)


def serve_upload(filename: str):
    response = send_from_directory(uploads_folder(), filename, max_age=365 * 24 * 3600)
    # Files are never rewritten under the same name (free_stem), so caches may keep them.
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/uploads/<path:filename>", "uploads", serve_upload)
