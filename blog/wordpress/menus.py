"""WordPress's navigation menus (nav_menu_item posts) in and out of the site's one menu.

WordPress keeps each menu item as a post of type nav_menu_item, in a "nav_menu" term
(the menu), with its target in post meta: _menu_item_type (post_type, taxonomy or
custom), _menu_item_object (page, post, category, post_tag, custom), _menu_item_object_id
and _menu_item_url, its parent item in _menu_item_menu_item_parent, its place in
menu_order. A site has several menus and the export does not say which one the theme
shows: the import brings the largest into an empty menu, and says what it left.
"""

from collections import Counter

from blog.menus import MenuError, append, checked_address, checked_label, is_empty
from blog.menus import items as menu_items
from blog.models import MenuItem
from blog.rendering import plain_text
from blog.wordpress.items import WxrItem, whole_number

MENU_TERM = ("nav_menu", "main-menu", "Main menu")  # the one menu, as an export names it
CLASSES = 'a:1:{i:0;s:0:"";}'  # WordPress's serialised empty class list


def menu_of(item: WxrItem) -> tuple[str, str]:
    for domain, slug, name in item.terms:
        if domain == "nav_menu":
            return slug, name or slug
    return "", "(no menu)"


def import_menu(items: list[WxrItem], targets, source: str, summary) -> None:
    """Bring the export's largest menu into the site's empty menu, in order, nested one
    level (a deeper item goes under its top-level ancestor). `targets(kind, wp_id)` is
    the post, category or tag an imported WordPress object became (or None). Inside the
    importer's transaction; every item is counted as created or skipped, with why."""
    if not items:
        return
    if not is_empty():
        summary.add_skipped("menu items", "the site has a menu already", len(items))
        return
    sizes = Counter(menu_of(item) for item in items)
    chosen = min(sizes, key=lambda menu: (-sizes[menu], menu[1]))
    for menu, count in sorted(sizes.items()):
        if menu != chosen:
            reason = f"in menu {menu[1]!r} (one menu comes over: the largest, {chosen[1]!r})"
            summary.add_skipped("menu items", reason, count)
    kept: dict[int, WxrItem] = {}
    for item in items:
        if menu_of(item) == chosen:
            kept.setdefault(item.wp_id, item)  # the same id twice in one menu: the first
    parents = {
        wp_id: whole_number(item.meta_value("_menu_item_menu_item_parent"))
        for wp_id, item in kept.items()
    }

    def top_of(wp_id: int) -> int:
        seen = {wp_id}
        while parents.get(wp_id) in kept and parents[wp_id] not in seen:
            wp_id = parents[wp_id]
            seen.add(wp_id)
        return wp_id

    made: dict[int, MenuItem] = {}
    ordered = sorted(kept.values(), key=lambda item: (item.menu_order, item.wp_id))
    # Top-level items first, so that an item finds the one it goes under.
    for item in sorted(ordered, key=lambda item: top_of(item.wp_id) != item.wp_id):
        top = top_of(item.wp_id)
        under = made.get(top) if top != item.wp_id else None
        if top != item.wp_id and under is None:
            summary.add_skipped("menu items", "under an item that did not come over")
            continue
        target, reason = _target(item, targets, source)
        if target is None:
            summary.add_skipped("menu items", reason)
            continue
        label = checked_label(plain_text(item.title)[:200])
        if isinstance(target, str) and not label:
            label = target[:200]
        made[item.wp_id] = append(target, label, under)
        summary.add_created("menu items")
    summary.notes.append(f"menu: {chosen[1]!r} is the site's menu now (Admin → Menu)")


def _target(item: WxrItem, targets, source: str):
    """(what the item links to, None) or (None, why it is skipped)."""
    kind = item.meta_value("_menu_item_type")
    what = item.meta_value("_menu_item_object")
    wp_id = whole_number(item.meta_value("_menu_item_object_id"))
    if kind == "custom":
        url = item.meta_value("_menu_item_url").strip()
        if source and url.startswith(source + "/"):
            url = url[len(source) :]  # the old site's own page: the same path here
        try:
            return checked_address(url), ""
        except MenuError:
            return None, "a link to an address that is not http(s) or of this site"
    if kind == "post_type" and what in ("post", "page"):
        found = targets("post", wp_id)
        return (found, "") if found else (None, f"its {what} did not come over")
    if kind == "taxonomy" and what in ("category", "post_tag"):
        found = targets("category" if what == "category" else "tag", wp_id)
        return (found, "") if found else (None, f"its {what.replace('post_', '')} is not here")
    return None, f"a link to a {what or kind or 'thing'} (Pressroom has no such thing)"


def export_items(first_id: int) -> tuple[dict | None, list[WxrItem]]:
    """The site's menu as a nav_menu term (None without a menu) and its items, whose
    WordPress ids start past `first_id` (after every post and attachment)."""
    entries = menu_items()
    if not entries:
        return None, []
    exported = []
    for order, entry in enumerate(entries, start=1):
        wp_id = first_id + entry.id
        if entry.post is not None:
            kind, what, object_id, url = "post_type", entry.post.type, entry.post.id, ""
        elif entry.category is not None:
            kind, what, object_id, url = "taxonomy", "category", entry.category.id, ""
        elif entry.tag is not None:
            kind, what, object_id, url = "taxonomy", "post_tag", entry.tag.id, ""
        else:
            kind, what, object_id, url = "custom", "custom", wp_id, entry.url
        item = WxrItem(wp_id=wp_id, type="nav_menu_item", title=entry.label, menu_order=order,
                       slug=str(wp_id), comment_status="closed")  # fmt: skip
        item.terms = [MENU_TERM]
        parent = str(first_id + entry.parent_id) if entry.parent_id else "0"
        for key, value in (("_menu_item_type", kind), ("_menu_item_menu_item_parent", parent),
                           ("_menu_item_object_id", str(object_id)), ("_menu_item_object", what),
                           ("_menu_item_target", ""), ("_menu_item_classes", CLASSES),
                           ("_menu_item_xfn", ""), ("_menu_item_url", url)):  # fmt: skip
            item.meta[key] = [value]
        exported.append(item)
    term = {"slug": MENU_TERM[1], "name": MENU_TERM[2]}
    return term, exported
