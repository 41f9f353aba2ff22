"""Reading WordPress eXtended RSS (WXR 1.0–1.2) files, streamed, one element at a time.

It yields the parts that blog/wordpress/items.py defines. Only the element being read
is held in memory: each one is cleared and dropped from the tree once read, so a 50 MB
export costs about as much memory as its largest post.
A DTD is refused outright (a WordPress export never has one), and entity expansion,
DTD loading and network access are all off in the parser, so neither an XML bomb nor
an external-entity (XXE) payload can do anything.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import BinaryIO
from urllib.parse import unquote

from lxml import etree

from blog.wordpress.items import (
    WxrAuthor,
    WxrComment,
    WxrError,
    WxrItem,
    WxrSite,
    WxrTerm,
    whole_number,
)

# WordPress has written its namespaces as http:// and https://, versions 1.0 to 1.2.
_WP = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
_EXCERPT = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
_KNOWN = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://wellformedweb.org/CommentAPI/": "wfw",
}


class _Names:
    """`{namespace}local` tags to short names like "wp:post_id", whatever the version."""

    def __init__(self):
        self.cache: dict[str, str] = {}

    def __call__(self, tag) -> str:
        if not isinstance(tag, str):
            return ""  # a comment or processing instruction
        short = self.cache.get(tag)
        if short is None:
            if tag.startswith("{"):
                namespace, local = tag[1:].split("}", 1)
                if _WP.match(namespace):
                    prefix = "wp"
                elif _EXCERPT.match(namespace):
                    prefix = "excerpt"
                else:
                    prefix = _KNOWN.get(namespace, namespace)
                short = f"{prefix}:{local}"
            else:
                short = tag
            self.cache[tag] = short
        return short


def _parse_date(value: str) -> datetime | None:
    """WordPress's "2024-01-05 09:30:00"; its "0000-00-00 00:00:00" means none."""
    value = value.strip()
    if not value or value.startswith("0000"):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _parse_rfc822(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


class WxrReader:
    """Reads one export file; `read()` yields its parts in document order.

    The channel's own fields arrive first as a WxrSite, then WxrAuthor, WxrTerm and
    WxrItem objects as they appear. Errors raise WxrError naming the line.
    """

    def __init__(self, source: str | BinaryIO):
        self.source = source
        self.name = _Names()

    def read(self) -> Iterator[WxrSite | WxrAuthor | WxrTerm | WxrItem]:
        if hasattr(self.source, "read"):
            self.source.seek(0)
            yield from self._read(self.source)
        else:
            with open(self.source, "rb") as file:  # closed even when reading stops early
                yield from self._read(file)

    def _read(self, file: BinaryIO) -> Iterator[WxrSite | WxrAuthor | WxrTerm | WxrItem]:
        events = etree.iterparse(
            file,
            events=("start", "end"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            dtd_validation=False,
            huge_tree=False,  # caps any one text node at 10 MB
            remove_comments=True,
            remove_pis=True,
        )
        depth = 0
        site = WxrSite()
        site_sent = False
        try:
            for event, element in events:
                if event == "start":
                    depth += 1
                    if depth == 1:
                        self._check_root(element)
                    continue
                depth -= 1
                if depth != 2:  # only the channel's children are read whole
                    continue
                name = self.name(element.tag)
                if name == "item":
                    if not site_sent:
                        self._check_site(site, element)
                        site_sent = True
                        yield site
                    yield self._item(element)
                elif name == "wp:author":
                    yield self._author(element)
                elif name in ("wp:category", "wp:tag", "wp:term"):
                    term = self._term(name, element)
                    if term is not None:
                        yield term
                else:
                    self._site_field(site, name, element)
                # Drop what has been read, and the siblings before it.
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as error:
            line = error.lineno or (error.position[0] if error.position else "?")
            message = str(error.msg or error).splitlines()[0].split(", line ")[0][:160]
            raise WxrError(f"line {line}: not well-formed XML: {message}") from None
        if not site_sent:
            self._check_site(site, None)
            yield site

    @staticmethod
    def _check_site(site: WxrSite, element) -> None:
        if not site.wxr_version:
            where = f"line {element.sourceline}: " if element is not None else ""
            raise WxrError(
                f"{where}this is not a WordPress export: no <wp:wxr_version> before the posts"
            )

    def _check_root(self, root) -> None:
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise WxrError(
                "line 1: the file declares a DTD (<!DOCTYPE …>), which a WordPress export "
                "never does; refused, as it could define entities"
            )
        if self.name(root.tag) != "rss":
            raise WxrError(
                f"line {root.sourceline}: expected an <rss> document (a WordPress export), "
                f"found <{etree.QName(root).localname}>"
            )

    def _children(self, element) -> Iterator[tuple[str, object]]:
        for child in element:
            name = self.name(child.tag)
            if name:
                yield name, child

    @staticmethod
    def _text(element) -> str:
        return (element.text or "").strip()

    def _site_field(self, site: WxrSite, name: str, element) -> None:
        fields = {
            "title": "title",
            "link": "link",
            "description": "description",
            "wp:base_site_url": "base_site_url",
            "wp:base_blog_url": "base_blog_url",
            "wp:wxr_version": "wxr_version",
        }
        if name in fields:
            setattr(site, fields[name], self._text(element))
        if name == "wp:wxr_version" and not re.match(r"^\d+\.\d+$", site.wxr_version):
            raise WxrError(f"line {element.sourceline}: unknown WXR version {site.wxr_version!r}")

    def _author(self, element) -> WxrAuthor:
        values = {name: self._text(child) for name, child in self._children(element)}
        login = values.get("wp:author_login", "")
        if not login:
            raise WxrError(f"line {element.sourceline}: <wp:author> without <wp:author_login>")
        return WxrAuthor(
            login=login,
            email=values.get("wp:author_email", ""),
            display_name=values.get("wp:author_display_name", ""),
            first_name=values.get("wp:author_first_name", ""),
            last_name=values.get("wp:author_last_name", ""),
            wp_id=whole_number(values.get("wp:author_id", "")) or None,
        )

    def _term(self, name: str, element) -> WxrTerm | None:
        values = {child_name: self._text(child) for child_name, child in self._children(element)}
        if name == "wp:category":
            kind, slug, label = "category", "wp:category_nicename", "wp:cat_name"
            description = values.get("wp:category_description", "")
            parent = values.get("wp:category_parent", "")
        elif name == "wp:tag":
            kind, slug, label = "tag", "wp:tag_slug", "wp:tag_name"
            description = values.get("wp:tag_description", "")
            parent = ""
        else:  # wp:term: custom taxonomies and nav menus; categories and tags come twice
            return None
        if not values.get(slug) and not values.get(label):
            raise WxrError(f"line {element.sourceline}: <{name}> without a slug or a name")
        return WxrTerm(
            kind=kind,
            slug=unquote(values.get(slug, "")),
            name=values.get(label, "") or unquote(values.get(slug, "")),
            parent_slug=unquote(parent),
            description=description,
            wp_id=whole_number(values.get("wp:term_id", "")) or None,
        )

    def _item(self, element) -> WxrItem:
        item = WxrItem(wp_id=0, line=element.sourceline or 0)
        post_date = gmt_date = rfc_date = None
        for name, child in self._children(element):
            if name == "title":
                item.title = self._text(child)
            elif name == "link":
                item.link = self._text(child)
            elif name == "guid":
                item.guid = self._text(child)
            elif name == "dc:creator":
                item.creator = self._text(child)
            elif name == "content:encoded":
                item.content = child.text or ""
            elif name == "excerpt:encoded":
                item.excerpt = child.text or ""
            elif name == "pubDate":
                rfc_date = _parse_rfc822(child.text or "")
            elif name == "wp:post_id":
                item.wp_id = whole_number(child.text or "")
            elif name == "wp:post_date":
                post_date = _parse_date(child.text or "")
            elif name == "wp:post_date_gmt":
                gmt_date = _parse_date(child.text or "")
            elif name == "wp:post_name":
                item.slug = unquote(self._text(child))
            elif name == "wp:status":
                item.status = self._text(child)
            elif name == "wp:post_parent":
                item.parent_wp_id = whole_number(child.text or "")
            elif name == "wp:menu_order":
                item.menu_order = whole_number(child.text or "")
            elif name == "wp:post_type":
                item.type = self._text(child)
            elif name == "wp:is_sticky":
                item.sticky = self._text(child) == "1"
            elif name == "wp:comment_status":
                item.comment_status = self._text(child)
            elif name == "wp:post_password":
                item.password = self._text(child)
            elif name == "wp:attachment_url":
                item.attachment_url = self._text(child)
            elif name == "category":
                domain = child.get("domain", "category")
                item.terms.append((domain, unquote(child.get("nicename", "")), self._text(child)))
            elif name == "wp:postmeta":
                values = {n: (c.text or "") for n, c in self._children(child)}
                key = values.get("wp:meta_key", "")
                if key:
                    item.meta.setdefault(key, []).append(values.get("wp:meta_value", ""))
            elif name == "wp:comment":
                item.comments.append(self._comment(child))
        if not item.wp_id:
            raise WxrError(f"line {item.line}: <item> without a <wp:post_id>")
        # The GMT date is the true one; drafts have none, and then the local one will do.
        item.date = gmt_date or post_date or rfc_date
        return item

    def _comment(self, element) -> WxrComment:
        values = {name: (child.text or "") for name, child in self._children(element)}
        comment_id = whole_number(values.get("wp:comment_id", ""))
        if not comment_id:
            raise WxrError(f"line {element.sourceline}: <wp:comment> without a <wp:comment_id>")
        return WxrComment(
            wp_id=comment_id,
            content=values.get("wp:comment_content", ""),
            author=values.get("wp:comment_author", "").strip(),
            email=values.get("wp:comment_author_email", "").strip(),
            url=values.get("wp:comment_author_url", "").strip(),
            ip=values.get("wp:comment_author_IP", "").strip(),
            date=_parse_date(values.get("wp:comment_date_gmt", ""))
            or _parse_date(values.get("wp:comment_date", "")),
            approved=values.get("wp:comment_approved", "1").strip() or "0",
            type=values.get("wp:comment_type", "").strip() or "comment",
            parent_wp_id=whole_number(values.get("wp:comment_parent", "")),
            user_wp_id=whole_number(values.get("wp:comment_user_id", "")),
        )
