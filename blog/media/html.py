"""Library images in posts: the Markdown that shows one, and srcset in rendered HTML."""

import re

from blog.database import db
from blog.models import Attachment


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
