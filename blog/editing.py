"""Writing posts: the one road for every change to a post.

Every creation, edit, status change, revision restore, autosave-to-draft (save_post),
scheduled publication (publish_scheduled), import (import_post, then place_imported_pages
once the parents are in too) and deletion (delete_post) comes through here: from the
editor, the CLI, blog/revisions.py, blog/scheduling.py and the WordPress importer. So
every post gets the same slug rules, the same renderer and the same bookkeeping (search
index, media use, revisions where they apply), and post_saved / post_deleted fire
exactly once per post, inside the transaction (keep_in_step and delete_post are the only
callers of those hooks).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from blog import search
from blog.caching import site_changed
from blog.database import db
from blog.media.html import responsive_images
from blog.media.usage import record_uses
from blog.menus import in_menu
from blog.models import REVIEW_STATUSES, STATUSES, Category, Post, Revision, Tag, User, utcnow
from blog.names import SLUG_MAX, first_free, make_slug
from blog.page_cache import LISTS, NAV, post_pages
from blog.plugins import hooks
from blog.rendering import BodyRefused, post_summary, render_markdown, without_control_characters

# First path segments the site itself uses; a post there could never be reached.
RESERVED_SLUGS = frozenset(
    "admin login logout setup feed category tag author search static uploads page archive "
    "preview site "
    "sitemap.xml robots.txt favicon.ico wp-admin wp-content wp-login.php".split()
)


class PostError(ValueError):
    """Post data that cannot be saved; `field` names the culprit for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def slug_taken(slug: str, post_id: int | None = None) -> bool:
    query = db.select(Post.id).where(Post.slug == slug)
    if post_id is not None:
        query = query.where(Post.id != post_id)
    return (
        slug in RESERVED_SLUGS
        or slug.isdigit()  # /2024/ is that year's archive
        or db.session.scalar(query.limit(1)) is not None
    )


def unique_slug(base: str, post_id: int | None = None) -> str:
    """`base`, or `base-2`, `base-3`… whichever no other post has and the site does not use."""
    return first_free(base or "post", lambda slug: slug_taken(slug, post_id), SLUG_MAX)


def term_slug(model, slug: str) -> str:
    """A category's or tag's slug: `slug`, or it numbered, whichever no other term has."""

    def taken(candidate: str) -> bool:
        return db.session.scalar(db.select(model.id).where(model.slug == candidate)) is not None

    return first_free(slug or "term", taken, SLUG_MAX)


def terms_from_names(model, names: list[str], create: bool = True) -> list:
    """The categories or tags with these names, matched by name or slug (both indexed).

    Unknown names become new terms, as WordPress's tag box does, or with
    create=False a PostError naming the first unknown one.
    """
    wanted = {}  # {slug: name}, the first spelling of each kept
    for name in names:
        name = " ".join(without_control_characters(name).split())[:200]
        slug = make_slug(name) or name.lower()
        if name and slug not in wanted:
            wanted[slug] = name
    if not wanted:
        return []
    found = db.session.scalars(
        db.select(model).where(model.name.in_(wanted.values()) | model.slug.in_(wanted))
    ).all()
    by_name = {term.name: term for term in found}
    by_slug = {term.slug: term for term in found}
    terms = []
    for slug, name in wanted.items():
        term = by_name.get(name) or by_slug.get(slug)
        if term is None:
            if not create:
                kind = model.__name__.lower()
                raise PostError(FORM_FIELDS[model], f"Unknown {kind} {name!r}.")
            term = model(name=name, slug=term_slug(model, make_slug(name)))
            db.session.add(term)
            db.session.flush()  # the next new term's slug check must see this one
        if term not in terms:
            terms.append(term)
    return terms


FORM_FIELDS = {Category: "categories", Tag: "tags"}


def tags_from_names(names: list[str]) -> list[Tag]:
    return terms_from_names(Tag, names)


def categories_from_names(names: list[str], create: bool = False) -> list[Category]:
    return terms_from_names(Category, names, create)


WORDS_PER_MINUTE = 230  # an adult reading English prose on a screen


def render_post_body(markdown: str, contents: bool = False) -> Markup:
    """The body as the published page shows it, with a table of contents at its top when
    `contents`; the editor's previews use this too."""
    # Sanitised by render_markdown; responsive_images adds only our own attributes.
    return Markup(responsive_images(str(render_markdown(markdown, contents))))  # noqa: S704


_word = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# An address ends at ")", and is never read past the next "]" or "(": linear even for a
# body of "](" repeated (read to its end from each one: 31 s for every editor view).
_markdown_link_target = re.compile(r"\]\([^)\](]*\)")


def word_count(markdown: str) -> tuple[int, int]:
    """(words, minutes to read) of a Markdown body; link and image addresses do not count."""
    words = len(_word.findall(_markdown_link_target.sub("]", markdown)))
    return words, max(1, -(-words // WORDS_PER_MINUTE)) if words else 0


class PostConflict(Exception):
    """The post was saved elsewhere (another tab, another editor) since this copy was opened."""

    def __init__(self, post: Post):
        super().__init__(f"{post.title!r} was changed elsewhere since you opened it.")
        self.post = post


@dataclass
class PostData:
    """What an author can set on a post. None means "leave it as it is"."""

    title: str
    body: str = ""
    excerpt: str = ""
    slug: str = ""
    status: str = "draft"
    categories: list[Category] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    # The publication date (UTC). Publishing with a future one schedules the post;
    # None keeps the post's date, or makes it "now" when the post goes out.
    published_at: datetime | None = None
    type: str | None = None  # "post" | "page"
    sticky: bool | None = None
    # A page's parent page: its id, or 0 for none (a top-level page). A post has none.
    parent_id: int | None = None
    menu_order: int | None = None  # where a page comes among its parent's pages
    table_of_contents: bool | None = None  # one at the top of the body
    featured_image_id: int | None = None
    # For a post written elsewhere (an import): when, which becomes its created and
    # updated date. None: now.
    written_at: datetime | None = None
    # True: a slug that is taken or that the site uses is numbered (an import keeps an
    # old address where it is free). False: it is refused (the author typed it).
    number_taken_slug: bool = False


def fill_post(post: Post, data: PostData) -> None:
    """Copy `data` onto `post`, checking it; raises PostError naming the bad field."""
    # Dropped as the editor's forms drop them, from whatever code saves (the CLI, a plugin).
    title = " ".join(without_control_characters(data.title).split())
    if not title:
        raise PostError("title", "Give the post a title.")
    if data.status not in STATUSES:
        raise PostError("status", f"Unknown status {data.status!r}.")
    if data.type not in (None, "post", "page"):
        raise PostError("type", f"Unknown type {data.type!r}.")
    now = utcnow()
    published_at = data.published_at or post.published_at
    status = data.status
    if status == "published" and published_at and published_at > now and data.published_at:
        status = "scheduled"  # "Publish" with a date still to come, as in WordPress
    if status == "scheduled" and (published_at is None or published_at <= now):
        raise PostError("published_at", "To schedule the post, give it a date in the future.")
    slug = slug_for(post, data, title)  # may refuse: before anything is changed
    parent = parent_for(post, data)  # may refuse too
    contents = post.table_of_contents if data.table_of_contents is None else data.table_of_contents
    try:
        body_html = str(render_post_body(data.body, bool(contents)))
    except BodyRefused as refused:
        raise PostError("body", str(refused)) from None

    post.title = title
    post.slug = slug
    post.body = data.body
    post.body_html = body_html
    post.table_of_contents = bool(contents)
    post.excerpt = without_control_characters(data.excerpt).strip()
    post.summary = post_summary(post.excerpt, post.body, post.body_html)
    post.categories = list(data.categories)
    post.tags = list(data.tags)
    if data.type is not None:
        post.type = data.type
    if data.sticky is not None:
        post.sticky = data.sticky
    post.parent = parent
    if data.menu_order is not None:
        post.menu_order = data.menu_order
    if data.featured_image_id is not None:
        post.featured_image_id = data.featured_image_id
    if status in ("published", "unlisted") and (published_at is None or published_at > now):
        published_at = now  # going out now: "Publish" on a scheduled post without a new date
    post.published_at = published_at
    post.status = status
    if post.id is None and data.written_at:
        post.created_at = data.written_at
    post.updated_at = data.written_at or now
    post.version = (post.version or 0) + 1


def slug_for(post: Post, data: PostData, title: str) -> str:
    """The slug the post gets: the one asked for, the one it has, or one from its title."""
    if data.slug.strip():
        slug = make_slug(data.slug)
        if data.number_taken_slug and slug:
            return unique_slug(slug, post.id)
        if not slug:
            raise PostError("slug", "Use letters or digits in the slug.")
        if slug in RESERVED_SLUGS:
            raise PostError("slug", f"The slug {slug!r} is used by the site itself.")
        if slug.isdigit():
            raise PostError("slug", f"/{slug}/ is a year's archive: add a word to the slug.")
        if slug_taken(slug, post.id):
            raise PostError("slug", f"The slug {slug!r} is taken by another post.")
        return slug
    if post.slug and post.is_published:
        return post.slug  # a published address stays put unless the author changes it
    return unique_slug(make_slug(title), post.id)


MENU_ORDER_LIMIT = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def parent_for(post: Post, data: PostData) -> Post | None:
    """The parent page the post gets: the one asked for, checked, or the one it has.

    Only pages have parents; the parent must be another page, and not one below this
    page (that would be a loop, and the page would have no address).
    """
    if (data.type or post.type or "post") != "page":
        return None
    if data.menu_order is not None and abs(data.menu_order) > MENU_ORDER_LIMIT:
        raise PostError("menu_order", "Give the order as a smaller whole number.")
    if data.parent_id is None:
        return post.parent
    if data.parent_id == 0:
        return None
    parent = db.session.get(Post, data.parent_id)
    if parent is None or parent.type != "page":
        raise PostError("parent_id", "Choose a page as the parent.")
    if post.id is not None and post.id in page_ancestor_ids(parent):
        raise PostError("parent_id", "A page cannot sit under itself or under a page below it.")
    return parent


def page_ancestor_ids(page: Post) -> list[int]:
    """The page's id and its parents', nearest first (ends on a loop of parents)."""
    ids: list[int] = []
    while page is not None and page.id not in ids:
        ids.append(page.id)
        page = page.parent
    return ids


def keep_revision(post: Post, author: User | None, note: str = "") -> Revision | None:
    """Record the post's words as saved now, unless they equal the last revision's."""
    last = db.session.scalar(
        db.select(Revision)
        .where(Revision.post_id == post.id, Revision.kind == "save")
        .order_by(Revision.id.desc())
        .limit(1)
    )
    if last and (last.title, last.body, last.excerpt) == (post.title, post.body, post.excerpt):
        return None
    revision = Revision(
        post_id=post.id,
        author=author,
        kind="save",
        title=post.title,
        body=post.body,
        excerpt=post.excerpt,
        note=note,
    )
    db.session.add(revision)
    # A save supersedes what the editor autosaved for this author.
    db.session.execute(
        db.delete(Revision).where(Revision.autosave_of(post.id, author.id if author else None))
    )
    return revision


def keep_first_version(post: Post) -> None:
    """Before a post's first edit here, keep the words it came with (an imported post, or
    one older than revisions), so that the edit can be compared and undone."""
    kept = db.session.scalar(
        db.select(Revision.id).where(Revision.post_id == post.id, Revision.kind == "save").limit(1)
    )
    if kept is None:
        db.session.add(
            Revision(
                post_id=post.id,
                author_id=post.author_id,
                kind="save",
                created_at=post.updated_at,
                title=post.title,
                body=post.body,
                excerpt=post.excerpt,
                note="As it was before its first edit here",
            )
        )


@dataclass(frozen=True)
class Listing:
    """Where readers meet a post, besides its own page: which pages a save may change."""

    public: bool  # readable: lists, archives, feeds and the sitemap may name it
    in_navigation: frozenset[int]  # the categories it keeps in the navigation

    @classmethod
    def of(cls, post: Post | None) -> "Listing":
        if post is None:
            return cls(False, frozenset())
        shown = frozenset(c.id for c in post.categories) if post.is_listed else frozenset()
        return cls(post.is_public, shown)


def changed_pages(post: Post, before: Listing) -> list[str]:
    """The page-cache tags of every page that showed the post or shows it now."""
    after = Listing.of(post)
    tags = [post_pages(post.id)]  # its page, and every page that loaded it (related boxes)
    if before.public or after.public:
        tags.append(LISTS)
    if before.in_navigation != after.in_navigation or in_menu(post.id):
        tags.append(NAV)  # a category's first or last post; a post the menu names
    return tags


def keep_in_step(
    post: Post,
    form=None,
    importing: bool = False,
    known_files: dict[str, int] | None = None,
    before: Listing | None = None,
) -> None:
    """After a post is written and flushed: the search index, media use, then the plugins.

    The one caller of post_saved, so every path that saves a post does all of it, once.
    `before` is where readers met the post before this change.
    """
    search.index_post(post.id, post.title, post.body_html)
    record_uses(post.id, post.body, post.featured_image_id, known_files)
    site_changed(*changed_pages(post, before or Listing.of(None)))
    hooks().post_saved(post=post, form=form if form is not None else {}, importing=importing)


def save_post(
    data: PostData,
    author: User,
    post: Post | None = None,
    form=None,
    expected_version: int | None = None,
    note: str = "",
) -> Post:
    """Create or update a post in one transaction, telling plugins before the commit.

    `form` is what the editor sent, for plugins' own fields; {} from elsewhere.
    `expected_version` is the post.version the author's copy was opened at: if the
    post has been saved since, PostConflict is raised and nothing is written.
    `author` is also who the revision is credited to.
    """
    try:
        if post is not None and expected_version is not None and post.version != expected_version:
            raise PostConflict(post)
        if not author.may_publish and data.status not in REVIEW_STATUSES:
            raise PostError(
                "status", "An editor publishes a contributor's posts: submit it for review."
            )
        # The new post joins the session through its author; it must not be flushed
        # half-made by the slug queries in fill_post().
        before = Listing.of(post)
        with db.session.no_autoflush:
            if post is None:
                post = Post(author=author)
                db.session.add(post)
            else:
                keep_first_version(post)
            fill_post(post, data)
        db.session.flush()
        keep_revision(post, author, note)
        keep_in_step(post, form, before=before)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if "slug" not in str(error.orig):
            raise
        # Two authors saving the same new slug at once: the second hears it plainly.
        raise PostError("slug", "The slug is taken by another post; choose another.") from error
    except Exception:
        db.session.rollback()
        raise
    return post


def import_post(data: PostData, author_id: int, known_files: dict[str, int]) -> Post:
    """Create a post brought from another site, inside the importer's one transaction.

    Written and announced like any other post, with `importing=True` for plugins
    (import_finished follows once every post is in). No revision: the first edit here
    keeps the imported words (keep_first_version). Never commits. `known_files` is
    every library file's address -> id, so that media use costs no query per post.
    """
    with db.session.no_autoflush:
        post = Post(author_id=author_id)
        db.session.add(post)
        try:
            fill_post(post, data)
        except PostError:
            db.session.expunge(post)  # refused whole: nothing of it joins the import
            raise
    db.session.flush()
    keep_in_step(post, importing=True, known_files=known_files)
    return post


def place_imported_pages(parents: dict[int, int]) -> list[str]:
    """Put imported pages under their parent pages ({page id: parent page id}), once every
    page of the import is in (a child may come before its parent in the file). Inside
    the importer's transaction; says why for each link it leaves out (a parent that is
    not a page, a loop of parents). Only the pages' addresses change: post_saved fired
    when they were imported."""
    refused = []
    for page_id, parent_id in parents.items():
        page, parent = db.session.get(Post, page_id), db.session.get(Post, parent_id)
        if page.type != "page" or parent is None or parent.type != "page":
            refused.append(f"{page.title!r}: its parent is not a page; kept at the top level")
        elif page.id in page_ancestor_ids(parent):
            refused.append(f"{page.title!r}: its parents go round in a loop; kept at the top level")
        else:
            page.parent = parent
            site_changed(post_pages(page.id))
    db.session.flush()
    return refused


def publish_scheduled(post_id: int) -> Post | None:
    """Publish one scheduled post whose time has come, in its own transaction.

    Several processes may try the same post at once (blog/scheduling.py): each claims
    it with one conditional UPDATE, so exactly one publishes it and fires post_saved;
    the others get None.
    """
    try:
        claimed = db.session.execute(
            db.update(Post)
            .where(Post.id == post_id, Post.status == "scheduled")
            .values(status="published", updated_at=utcnow(), version=Post.version + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            return None
        post = db.session.get(Post, post_id, populate_existing=True)
        keep_in_step(post)  # was scheduled: nowhere but its (private) preview
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return post


def delete_post(post: Post) -> None:
    """Delete the post and everything that hangs on it, telling plugins before the commit."""
    try:
        search.remove_post(post.id)
        gone = Listing.of(post)
        site_changed(
            post_pages(post.id),
            *([LISTS] if gone.public else []),
            *([NAV] if gone.in_navigation or in_menu(post.id) else []),
        )
        db.session.delete(post)
        db.session.flush()
        hooks().post_deleted(post=post)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
