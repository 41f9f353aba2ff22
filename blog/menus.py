"""The site's navigation menu: what it shows, and every change to it.

An owner builds one menu at /admin/menu (blog/admin/menu.py) from pages and posts,
categories, tags and any address, in order, with one level of nesting, as WordPress's
menus have it. Until it has an item, the navigation is what plugins put in the "nav"
slot (the categories plugin: the categories with most posts). Every change to the menu
goes through the functions here, which tell the page cache (NAV) in the same
transaction; a save of a post in the menu tells it too (blog/editing.py, in_menu).
"""

from dataclasses import dataclass, field

from flask import request, url_for
from sqlalchemy.orm import selectinload

from blog.caching import site_changed, until_site_changes
from blog.database import db
from blog.models import Category, MenuItem, Post, Tag
from blog.page_cache import NAV
from blog.plugins import hooks
from blog.rendering import link_address

LABEL_MAX = 200


class MenuError(ValueError):
    """A menu change that cannot be made; the message says why, for the form."""


@dataclass
class Link:
    """One entry of the navigation as readers see it."""

    label: str
    url: str
    children: list["Link"] = field(default_factory=list)


def navigation() -> list[Link]:
    """The menu's links, kept until the site next changes; [] while it has none."""
    return until_site_changes(("menu", request.script_root), shown_links)


def items() -> list[MenuItem]:
    """Every item, top-level items in order, each followed by its own in order."""
    every = db.session.scalars(
        db.select(MenuItem)
        .options(
            selectinload(MenuItem.post), selectinload(MenuItem.category), selectinload(MenuItem.tag)
        )
        .order_by(MenuItem.position, MenuItem.id)
    ).all()
    ordered = []
    for item in every:
        if item.parent_id is None:
            ordered.append(item)
            ordered += [child for child in every if child.parent_id == item.id]
    return ordered


def shown_links() -> list[Link]:
    """The links readers get: items whose target they can open (a published post, a
    category a plugin serves a page for), named by their label or their target."""
    links: list[Link] = []
    by_id: dict[int, Link] = {}
    for item in items():
        link = link_for(item)
        if link is None:
            continue
        if item.parent_id is None:
            links.append(link)
            by_id[item.id] = link
        elif item.parent_id in by_id:  # under an item readers see
            by_id[item.parent_id].children.append(link)
    return links


def link_for(item: MenuItem) -> Link | None:
    if item.post is not None:
        if not item.post.is_published:
            return None
        return Link(item.label or item.post.title, url_for("posts.detail", slug=item.post.path))
    if item.category is not None:
        address = hooks().category_address(slug=item.category.slug)
        return Link(item.label or item.category.name, address) if address else None
    if item.tag is not None:
        return Link(item.label or item.tag.name, url_for("posts.tag", slug=item.tag.slug))
    return Link(item.label, item.url) if item.url else None


def target_name(item: MenuItem) -> str:
    """What the item points at, as the admin's list says it."""
    if item.post is not None:
        kind = "Page" if item.post.type == "page" else "Post"
        status = "" if item.post.is_published else f", {item.post.status}: not shown"
        return f"{kind}: {item.post.title}{status}"
    if item.category is not None:
        return f"Category: {item.category.name}"
    if item.tag is not None:
        return f"Tag: {item.tag.name}"
    return f"Link: {item.url}"


def checked_address(url: str) -> str:
    """An address a menu may link to (rendering.link_address: never javascript: or data:,
    nor "//other.example"), or "#"."""
    url = url.strip()
    if url == "#":  # no page of its own: a heading for the items under it, as in WordPress
        return url
    checked = link_address(url)
    if checked is None:
        raise MenuError(
            "Give an address starting with https://, http:// or / (a page of this site), or #."
        )
    return checked


def checked_label(label: str) -> str:
    label = " ".join(label.split())
    if len(label) > LABEL_MAX:
        raise MenuError(f"Keep the label under {LABEL_MAX} characters.")
    return label


def add_item(target: str, label: str = "", url: str = "") -> MenuItem:
    """Add an item at the end of the menu. `target` is "post:<id>", "category:<id>" or
    "tag:<id>"; with none, `url` and a label make a link."""
    label = checked_label(label)
    if target:
        kind, _, number = target.partition(":")
        model = {"post": Post, "category": Category, "tag": Tag}.get(kind)
        found = db.session.get(model, int(number)) if model and number.isdigit() else None
        if found is None:
            raise MenuError("That page, category or tag is not there any more.")
        return append(found, label)
    url = checked_address(url)
    if not label:
        raise MenuError("Give the link a label.")
    return append(url, label)


def append(target: Post | Category | Tag | str, label: str, under: MenuItem | None = None):
    """Add an item at the end of the menu (or of `under`'s items): a post, category or
    tag, or an address checked already (checked_address)."""
    item = MenuItem(label=label, parent_id=under.id if under else None)
    if isinstance(target, str):
        item.url = target
    else:
        setattr(item, {Post: "post", Category: "category", Tag: "tag"}[type(target)], target)
    siblings = db.select(db.func.max(MenuItem.position)).where(
        MenuItem.parent_id == under.id if under else MenuItem.parent_id.is_(None)
    )
    item.position = (db.session.scalar(siblings) or 0) + 1
    db.session.add(item)
    db.session.flush()  # an id, for the items that go under it
    _changed()
    return item


def is_empty() -> bool:
    return db.session.scalar(db.select(MenuItem.id).limit(1)) is None


def rename(item: MenuItem, label: str) -> None:
    label = checked_label(label)
    if not label and not (item.post or item.category or item.tag):
        raise MenuError("A link needs a label.")
    item.label = label
    _changed()


def move(item: MenuItem, step: int) -> None:
    """Move the item one place up (-1) or down (1) among its siblings."""
    siblings = [other for other in items() if other.parent_id == item.parent_id]
    at = siblings.index(item)
    if 0 <= at + step < len(siblings):
        siblings[at], siblings[at + step] = siblings[at + step], siblings[at]
    _number(siblings)


def indent(item: MenuItem) -> None:
    """Put a top-level item under the top-level item before it, at the end of its items."""
    if item.parent_id is not None:
        return
    tops = [other for other in items() if other.parent_id is None]
    at = tops.index(item)
    if at == 0:
        raise MenuError("The first item has no item above it to go under.")
    if any(other.parent_id == item.id for other in items()):
        raise MenuError("An item with items under it stays at the top (one level only).")
    parent = tops[at - 1]
    children = [other for other in items() if other.parent_id == parent.id]
    item.parent_id = parent.id
    _number([*children, item])


def outdent(item: MenuItem) -> None:
    """Bring an item up to the top level, just after the item it was under."""
    if item.parent_id is None:
        return
    tops = [other for other in items() if other.parent_id is None]
    parent = next(other for other in tops if other.id == item.parent_id)
    item.parent_id = None
    at = tops.index(parent)
    _number([*tops[: at + 1], item, *tops[at + 1 :]])
    _number([other for other in items() if other.parent_id == parent.id and other is not item])


def remove(item: MenuItem) -> None:
    """Remove the item; the items under it come up to its place."""
    tops = [other for other in items() if other.parent_id is None]
    children = [other for other in items() if other.parent_id == item.id]
    for child in children:
        child.parent_id = None
    if item in tops:
        at = tops.index(item)
        _number([*tops[:at], *children, *tops[at + 1 :]])
    db.session.delete(item)
    _changed()


def _number(ordered: list[MenuItem]) -> None:
    for position, item in enumerate(ordered, start=1):
        item.position = position
    _changed()


def _changed() -> None:
    site_changed(NAV)  # every page shows the navigation


def in_menu(post_id: int | None) -> bool:
    """Whether the menu links to the post: its title or address changing changes every
    page's navigation."""
    if post_id is None:
        return False
    query = db.select(MenuItem.id).where(MenuItem.post_id == post_id).limit(1)
    return db.session.scalar(query) is not None
