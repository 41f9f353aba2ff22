"""Writing the site as a WordPress eXtended RSS (WXR 1.2) file, as WordPress's own export does.

Streamed: posts are read in batches and written as they come, so the size of the
site does not decide the memory used. Plugins add their part of each post (the
comments plugin its comments) through the posts_exporting hook.
"""

from collections import Counter
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import BinaryIO
from xml.sax.saxutils import escape, quoteattr

from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from blog.database import db
from blog.editing import render_post_body
from blog.feeds import NOT_XML
from blog.models import Attachment, Category, Post, Tag, User
from blog.plugins import hooks
from blog.rendering import MORE, more_break
from blog.security_log import record
from blog.sitetime import local
from blog.wordpress.items import (
    MORE_PLACEHOLDER,
    PRESSROOM_CONTENT_DIGEST,
    PRESSROOM_MARKDOWN,
    PRESSROOM_STATUS,
    PRESSROOM_TABLE_OF_CONTENTS,
    WxrComment,
    WxrItem,
    content_digest,
)
from blog.wordpress.menus import export_items as export_menu

WP = "http://wordpress.org/export/1.2/"
NAMESPACES = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": WP,
}
STATUSES = {
    "published": "publish",
    "draft": "draft",
    "pending": "pending",
    "private": "private",
    "scheduled": "future",
    # WordPress has no "anyone with the link": private is the safe side, and the
    # _pressroom_status field below lets a Pressroom import restore it.
    "unlisted": "private",
}
BATCH = 200


class Element:
    """A piece of the document, written as WordPress writes it: tag by tag, CDATA text.

    (lxml would declare every namespace again on each <item>; WordPress's fallback
    parser looks for a bare "<item>", so the text is written by hand.)
    """

    def __init__(self, name: str, **attributes):
        self.name = name
        self.attributes = attributes
        self.parts: list = []

    def child(self, name: str, text="", cdata: bool = False, **attributes) -> "Element":
        element = Element(name, **attributes)
        text = NOT_XML.sub("", "" if text is None else str(text))
        if cdata and text:
            element.parts.append("<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>")
        elif text:
            element.parts.append(escape(text))
        self.parts.append(element)
        return element

    def text(self, indent: str = "") -> str:
        attributes = "".join(f" {key}={quoteattr(value)}" for key, value in self.attributes.items())
        if not self.parts:
            return f"{indent}<{self.name}{attributes}></{self.name}>"
        if all(isinstance(part, str) for part in self.parts):
            return f"{indent}<{self.name}{attributes}>{''.join(self.parts)}</{self.name}>"
        inner = "\n".join(
            part.text(indent + "\t") if isinstance(part, Element) else part for part in self.parts
        )
        return f"{indent}<{self.name}{attributes}>\n{inner}\n{indent}</{self.name}>"


def _child(parent: Element, name: str, text="", cdata: bool = False, **attributes) -> Element:
    return parent.child(name, text, cdata, **attributes)


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "0000-00-00 00:00:00"


def _site_date(value: datetime | None) -> str:
    """WordPress's post_date and comment_date are the site's local time (the _gmt ones UTC)."""
    return _date(local(value).replace(tzinfo=None) if value else None)


def export_wordpress(out: BinaryIO) -> Counter:
    """Write every author, category, tag, post, page and attachment, and the menu, to `out`."""
    site = current_app.config["SITE"]
    url = site["url"].rstrip("/")
    counts = Counter()
    declarations = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    write('<?xml version="1.0" encoding="UTF-8" ?>\n')
    write('<!-- generator="Pressroom" -->\n')
    write(f'<rss version="2.0"{declarations}>\n\n<channel>\n')
    channel = Element("channel")
    _child(channel, "title", site["title"])
    _child(channel, "link", url)
    _child(channel, "description", site.get("tagline", ""))
    _child(channel, "pubDate", format_datetime(datetime.now(UTC)))
    _child(channel, "language", "en")
    _child(channel, "wp:wxr_version", "1.2")
    _child(channel, "wp:base_site_url", url)
    _child(channel, "wp:base_blog_url", url)
    counts["authors"] = _authors(channel)
    counts["categories"] = _categories(channel)
    counts["tags"] = _tags(channel)
    attachment_offset = db.session.scalar(db.select(db.func.max(Post.id))) or 0
    # Menu items are posts in WordPress: their ids come after every post and attachment.
    last_attachment = db.session.scalar(db.select(db.func.max(Attachment.id))) or 0
    menu_offset = attachment_offset + last_attachment
    menu, menu_items = export_menu(menu_offset)
    if menu is not None:
        _menu_term(channel, menu)
    _child(channel, "generator", "Pressroom")
    for element in channel.parts:
        write(element.text("\t") + "\n")
    for element in _attachments(url, attachment_offset, counts):
        write(element.text("\t") + "\n")
    for element in _items(url, attachment_offset, counts):
        write(element.text("\t") + "\n")
    for item in menu_items:
        write(_item_element(item, url).text("\t") + "\n")
    if menu_items:
        counts["menu items"] = len(menu_items)
    write("</channel>\n</rss>\n")
    # A copy of every post, draft and account name leaves the site: the admins' log says so.
    record("export", detail=", ".join(f"{count} {kind}" for kind, count in counts.items()))
    db.session.commit()
    return counts


def _authors(channel) -> int:
    users = db.session.scalars(db.select(User).order_by(User.id)).all()
    for user in users:
        author = _child(channel, "wp:author")
        _child(author, "wp:author_id", user.id)
        _child(author, "wp:author_login", user.username, cdata=True)
        _child(author, "wp:author_email", user.email, cdata=True)
        _child(author, "wp:author_display_name", user.name, cdata=True)
        _child(author, "wp:author_first_name", "", cdata=True)
        _child(author, "wp:author_last_name", "", cdata=True)
    return len(users)


def _categories(channel) -> int:
    categories = db.session.scalars(db.select(Category).order_by(Category.id)).all()
    by_id = {category.id: category for category in categories}
    written: set[int] = set()

    def write(category):
        # Parents first: WordPress's importer looks a parent up when it meets the child.
        if category.id in written:
            return
        written.add(category.id)
        parent = by_id.get(category.parent_id)
        if parent is not None:
            write(parent)
        element = _child(channel, "wp:category")
        _child(element, "wp:term_id", category.id)
        _child(element, "wp:category_nicename", category.slug, cdata=True)
        _child(element, "wp:category_parent", parent.slug if parent else "", cdata=True)
        _child(element, "wp:cat_name", category.name, cdata=True)
        if category.description:
            _child(element, "wp:category_description", category.description, cdata=True)

    for category in categories:
        write(category)
    return len(categories)


def _tags(channel) -> int:
    tags = db.session.scalars(db.select(Tag).order_by(Tag.id)).all()
    for tag in tags:
        element = _child(channel, "wp:tag")
        _child(element, "wp:term_id", tag.id)
        _child(element, "wp:tag_slug", tag.slug, cdata=True)
        _child(element, "wp:tag_name", tag.name, cdata=True)
    return len(tags)


def _menu_term(channel, menu: dict) -> None:
    """The menu as WordPress declares one: a term of the nav_menu taxonomy."""
    highest = max(
        db.session.scalar(db.select(db.func.max(Category.id))) or 0,
        db.session.scalar(db.select(db.func.max(Tag.id))) or 0,
    )
    element = _child(channel, "wp:term")
    _child(element, "wp:term_id", highest + 1)
    _child(element, "wp:term_taxonomy", "nav_menu", cdata=True)
    _child(element, "wp:term_slug", menu["slug"], cdata=True)
    _child(element, "wp:term_name", menu["name"], cdata=True)


def _attachments(url: str, offset: int, counts: Counter):
    for attachment in db.session.scalars(
        db.select(Attachment).order_by(Attachment.id).execution_options(yield_per=BATCH)
    ):
        item = WxrItem(
            wp_id=offset + attachment.id,
            type="attachment",
            status="inherit",
            title=attachment.title,
            guid=attachment.url,
            link=attachment.url,
            excerpt=attachment.caption,
            date=attachment.created_at,
            slug=f"attachment-{attachment.id}",
            parent_wp_id=attachment.post_id or 0,
            attachment_url=attachment.url,
            comment_status="closed",
        )
        if attachment.alt_text:
            item.meta["_wp_attachment_image_alt"] = [attachment.alt_text]
        counts["attachments"] += 1
        yield _item_element(item, url)


def _items(url: str, attachment_offset: int, counts: Counter):
    last = 0
    while True:
        posts = db.session.scalars(
            db.select(Post)
            .where(Post.id > last)
            .options(
                joinedload(Post.author), selectinload(Post.categories), selectinload(Post.tags)
            )
            .order_by(Post.id)
            .limit(BATCH)
        ).all()
        if not posts:
            return
        items = {post: _post_item(post, url, attachment_offset) for post in posts}
        hooks().posts_exporting(items=items)
        for post, item in items.items():
            counts["pages" if post.type == "page" else "posts"] += 1
            counts["comments"] += len(item.comments)
            yield _item_element(item, url, post)
        last = posts[-1].id
        for post in posts:
            db.session.expunge(post)  # memory stays flat however many posts there are


def _content(post: Post) -> str:
    """The post's HTML, with its <!--more--> break where WordPress expects it (the page's
    HTML has none: the sanitiser drops comments)."""
    more = more_break(post.body)
    if more is None:
        return post.body_html
    marked = f"{post.body[: more.start()]}\n\n{MORE_PLACEHOLDER}\n\n{post.body[more.end() :]}"
    return str(render_post_body(marked)).replace(f"<p>{MORE_PLACEHOLDER}</p>", MORE, 1)


def _post_item(post: Post, url: str, attachment_offset: int) -> WxrItem:
    link = f"{url}/{post.path}/"
    content = NOT_XML.sub("", _content(post))  # as the file will carry it
    item = WxrItem(
        wp_id=post.id,
        type=post.type,
        status=STATUSES.get(post.status, "draft"),
        title=post.title,
        link=link,
        guid=link,
        creator=post.author.username,
        content=content,
        excerpt=post.excerpt,
        date=post.published_at or post.created_at,
        slug=post.slug,
        sticky=post.sticky,
        parent_wp_id=post.parent_id or 0,  # posts keep their ids in the export
        menu_order=post.menu_order,
    )
    item.terms = [("category", c.slug, c.name) for c in post.categories]
    item.terms += [("post_tag", t.slug, t.name) for t in post.tags]
    if post.featured_image_id:
        item.meta["_thumbnail_id"] = [str(attachment_offset + post.featured_image_id)]
    if post.status == "unlisted":
        item.meta[PRESSROOM_STATUS] = ["unlisted"]
    item.meta[PRESSROOM_MARKDOWN] = [post.body or ""]
    item.meta[PRESSROOM_CONTENT_DIGEST] = [content_digest(content)]
    if post.table_of_contents:
        item.meta[PRESSROOM_TABLE_OF_CONTENTS] = ["1"]
    return item


def _item_element(item: WxrItem, url: str, post: Post | None = None):
    element = Element("item")
    _child(element, "title", item.title)
    _child(element, "link", item.link)
    date = item.date.replace(tzinfo=UTC) if item.date else None
    _child(element, "pubDate", format_datetime(date) if date else "")
    _child(element, "dc:creator", item.creator, cdata=True)
    _child(element, "guid", item.guid, isPermaLink="false")
    _child(element, "description", "")
    _child(element, "content:encoded", item.content, cdata=True)
    _child(element, "excerpt:encoded", item.excerpt, cdata=True)
    _child(element, "wp:post_id", item.wp_id)
    _child(element, "wp:post_date", _site_date(item.date), cdata=True)
    _child(element, "wp:post_date_gmt", _date(item.date), cdata=True)
    if post is not None:
        _child(element, "wp:post_modified", _site_date(post.updated_at), cdata=True)
        _child(element, "wp:post_modified_gmt", _date(post.updated_at), cdata=True)
    _child(element, "wp:comment_status", item.comment_status, cdata=True)
    _child(element, "wp:ping_status", "closed", cdata=True)
    _child(element, "wp:post_name", item.slug, cdata=True)
    _child(element, "wp:status", item.status, cdata=True)
    _child(element, "wp:post_parent", item.parent_wp_id)
    _child(element, "wp:menu_order", item.menu_order)
    _child(element, "wp:post_type", item.type, cdata=True)
    _child(element, "wp:post_password", "", cdata=True)
    _child(element, "wp:is_sticky", int(item.sticky))
    if item.attachment_url:
        _child(element, "wp:attachment_url", item.attachment_url, cdata=True)
    for domain, slug, name in item.terms:
        _child(element, "category", name, cdata=True, domain=domain, nicename=slug)
    for key, values in item.meta.items():
        for value in values:
            meta = _child(element, "wp:postmeta")
            _child(meta, "wp:meta_key", key, cdata=True)
            _child(meta, "wp:meta_value", value, cdata=True)
    for comment in item.comments:
        _comment_element(element, comment)
    return element


def _comment_element(parent: Element, comment: WxrComment) -> None:
    element = _child(parent, "wp:comment")
    _child(element, "wp:comment_id", comment.wp_id)
    _child(element, "wp:comment_author", comment.author, cdata=True)
    _child(element, "wp:comment_author_email", comment.email, cdata=True)
    _child(element, "wp:comment_author_url", comment.url)
    _child(element, "wp:comment_author_IP", comment.ip, cdata=True)
    _child(element, "wp:comment_date", _site_date(comment.date), cdata=True)
    _child(element, "wp:comment_date_gmt", _date(comment.date), cdata=True)
    _child(element, "wp:comment_content", comment.content, cdata=True)
    _child(element, "wp:comment_approved", comment.approved, cdata=True)
    _child(element, "wp:comment_type", comment.type, cdata=True)
    _child(element, "wp:comment_parent", comment.parent_wp_id)
    _child(element, "wp:comment_user_id", comment.user_wp_id)
