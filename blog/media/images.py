"""Uploaded images checked and cleaned: an upload becomes clean image files, in memory.

An upload is trusted only after Pillow has decoded it as one of a few raster formats;
SVG and anything else is refused (an SVG is a document that can carry script). The
files are written afresh from the decoded pixels, so no metadata survives: no EXIF
(camera, GPS location), no XMP/IPTC text, no PNG text chunks; a colour profile is
applied to the pixels (converted to sRGB) rather than kept. Each image is kept at its
own size (at most MAX_WIDTH) and at the smaller WIDTHS, which pages offer the browser
through `srcset`.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a decompression bomb is refused before its pixels are unpacked
# An animation is re-encoded frame by frame: every frame's pixels count. 300 frames of
# 2000×2000 (1.2 MB of GIF, each frame under MAX_PIXELS) held a worker past 30 s.
MAX_ANIMATION_PIXELS = 100_000_000
MAX_WIDTH = 2400  # wider originals are scaled down; no page shows more
WIDTHS = (480, 960, 1600)
# Pillow format name -> (MIME type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}


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
            frames = getattr(image, "n_frames", 1)  # counted from frame headers, not decoded
            if frames * image.width * image.height > MAX_ANIMATION_PIXELS:
                raise MediaError(
                    f"The animation has {frames} frames of {image.width}×{image.height}: "
                    f"up to {MAX_ANIMATION_PIXELS // 1_000_000} megapixels in all frames "
                    "together. Make it smaller or shorter."
                )
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
