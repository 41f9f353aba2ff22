"""The parts of a WordPress export (WXR) as plain data: what the reader yields, the
importer reads, plugins' import and export hooks receive, and the exporter writes.

Light on purpose (no XML library): the plugin API hands these to plugins.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

# A post meta field Pressroom writes for a status WordPress lacks ("unlisted"), so that
# an export read back into Pressroom keeps it; WordPress ignores unknown "_" fields.
PRESSROOM_STATUS = "_pressroom_status"
# A post's own Markdown and its table-of-contents box, which its HTML cannot give back word
# for word (coloured code, MathML, heading links). An import uses them only while the
# HTML beside them is still the one Pressroom wrote (PRESSROOM_CONTENT_DIGEST): a post
# edited in WordPress since then keeps WordPress's words. WordPress keeps "_" fields
# through its own export.
PRESSROOM_MARKDOWN = "_pressroom_markdown"
PRESSROOM_TABLE_OF_CONTENTS = "_pressroom_table_of_contents"
PRESSROOM_CONTENT_DIGEST = "_pressroom_content_sha256"
# The <!--more--> break crosses the sanitiser and markdownify (or, exporting, the Markdown
# renderer) as this word, alone in its paragraph, and becomes the break again after.
MORE_PLACEHOLDER = "PRESSROOMMOREBREAK"


def content_digest(content: str) -> str:
    """The HTML's fingerprint as the file carries it: XML reads every line end as \\n."""
    text = content.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class WxrError(ValueError):
    """The file is not a WordPress export we can read; the message names where."""


def whole_number(value: str) -> int:
    """A WordPress id or count as written in the file; 0 for anything that is not one."""
    try:
        return int(value.strip() or 0)
    except ValueError:
        return 0


@dataclass
class WxrSite:
    title: str = ""
    link: str = ""
    description: str = ""
    base_site_url: str = ""
    base_blog_url: str = ""
    wxr_version: str = ""


@dataclass
class WxrAuthor:
    login: str
    email: str = ""
    display_name: str = ""
    first_name: str = ""
    last_name: str = ""
    wp_id: int | None = None


@dataclass
class WxrTerm:
    """A category (kind "category") or a tag (kind "tag")."""

    kind: str
    slug: str
    name: str
    parent_slug: str = ""
    description: str = ""
    wp_id: int | None = None


@dataclass
class WxrComment:
    wp_id: int
    content: str  # HTML, as WordPress stores it
    author: str = ""
    email: str = ""
    url: str = ""
    ip: str = ""
    date: datetime | None = None  # UTC, naive
    approved: str = "1"  # "1", "0", "spam" or "trash"
    type: str = "comment"  # "comment", "pingback" or "trackback"
    parent_wp_id: int = 0
    user_wp_id: int = 0


@dataclass
class WxrItem:
    """A post, a page, an attachment or anything else WordPress keeps as a post."""

    wp_id: int
    type: str = "post"
    status: str = "publish"
    title: str = ""
    link: str = ""
    guid: str = ""
    creator: str = ""  # the author's login
    content: str = ""
    excerpt: str = ""
    date: datetime | None = None  # UTC, naive
    slug: str = ""
    parent_wp_id: int = 0
    menu_order: int = 0  # a page's place among its parent's pages, a menu item's in its menu
    sticky: bool = False
    comment_status: str = "open"
    password: str = ""
    attachment_url: str = ""
    terms: list[tuple[str, str, str]] = field(default_factory=list)  # (domain, slug, name)
    meta: dict[str, list[str]] = field(default_factory=dict)
    comments: list[WxrComment] = field(default_factory=list)
    line: int = 0  # where the item starts in the file, for messages

    def meta_value(self, key: str) -> str:
        values = self.meta.get(key)
        return values[0] if values else ""
