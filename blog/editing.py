"""Writing posts: the one place where posts, their slugs and their terms are saved.

The editor, the CLI and the importers all come through here, so every post is
rendered, sanitised, slugged and announced to plugins the same way.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from slugify import slugify
from sqlalchemy.exc import IntegrityError

from blog import media, search
from blog.database import db
from blog.media import responsive_images
from blog.models import STATUSES, Category, Post, Revision, Tag, User, utcnow
from blog.plugins import hooks
from blog.rendering import post_summary, render_markdown

# First path segments the site itself uses; a post there could never be reached.
RESERVED_SLUGS = frozenset(
    "admin login logout setup feed category tag author search static uploads page archive "
    "preview site "
    "sitemap.xml robots.txt favicon.ico wp-admin wp-content wp-login.php".split()
)
SLUG_MAX = 200


class PostError(ValueError):
    """Post data that cannot be saved; `field` names the culprit for the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# As WordPress does, "Don't" becomes "dont", not "don-t".
APOSTROPHES = [("'", ""), ("\u2019", ""), ("\u02bc", "")]


def make_slug(text: str) -> str:
    return slugify(
        text, max_length=SLUG_MAX, word_boundary=True, save_order=True, replacements=APOSTROPHES
    )


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
    """`base`, or `base-2`, `base-3`… whichever is free."""
    base = base or "post"
    candidate, number = base, 1
    while slug_taken(candidate, post_id):
        number += 1
        suffix = f"-{number}"
        candidate = base[: SLUG_MAX - len(suffix)] + suffix
    return candidate


def term_slug(model, name: str) -> str:
    base = make_slug(name) or "term"
    candidate, number = base, 1
    while db.session.scalar(db.select(model.id).where(model.slug == candidate)) is not None:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def terms_from_names(model, names: list[str], create: bool = True) -> list:
    """The categories or tags with these names, matched by name or slug (both indexed).

    Unknown names become new terms, as WordPress's tag box does, or with
    create=False a PostError naming the first unknown one.
    """
    wanted = {}  # {slug: name}, the first spelling of each kept
    for name in names:
        name = " ".join(name.split())[:200]
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
            term = model(name=name, slug=term_slug(model, name))
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


def render_post_body(markdown: str) -> Markup:
    """The body as the published page shows it; the editor's previews use this too."""
    # Sanitised by render_markdown; responsive_images adds only our own attributes.
    return Markup(responsive_images(str(render_markdown(markdown))))  # noqa: S704


_word = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_markdown_link_target = re.compile(r"\]\([^)]*\)")


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


def apply(post: Post, data: PostData) -> None:
    """Copy `data` onto `post`, checking it; raises PostError naming the bad field."""
    title = " ".join(data.title.split())
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

    if data.slug.strip():
        slug = make_slug(data.slug)
        if not slug:
            raise PostError("slug", "Use letters or digits in the slug.")
        if slug in RESERVED_SLUGS:
            raise PostError("slug", f"The slug {slug!r} is used by the site itself.")
        if slug.isdigit():
            raise PostError("slug", f"/{slug}/ is a year's archive: add a word to the slug.")
        if slug_taken(slug, post.id):
            raise PostError("slug", f"The slug {slug!r} is taken by another post.")
    elif post.slug and post.is_published:
        slug = post.slug  # a published address stays put unless the author changes it
    else:
        slug = unique_slug(make_slug(title), post.id)

    post.title = title
    post.slug = slug
    post.body = data.body
    post.body_html = str(render_post_body(data.body))
    post.excerpt = data.excerpt.strip()
    post.summary = post_summary(post.excerpt, post.body, post.body_html)
    post.categories = list(data.categories)
    post.tags = list(data.tags)
    if data.type is not None:
        post.type = data.type
    if data.sticky is not None:
        post.sticky = data.sticky
    if status in ("published", "unlisted") and (published_at is None or published_at > now):
        published_at = now  # going out now: "Publish" on a scheduled post without a new date
    post.published_at = published_at
    post.status = status
    post.updated_at = now
    post.version = (post.version or 0) + 1


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
        # The new post joins the session through its author; it must not be flushed
        # half-made by the slug queries in apply().
        with db.session.no_autoflush:
            if post is None:
                post = Post(author=author)
                db.session.add(post)
            else:
                keep_first_version(post)
            apply(post, data)
        db.session.flush()
        keep_revision(post, author, note)
        search.index_post(post.id, post.title, post.body_html)
        media.record_uses(post.id, post.body, post.featured_image_id)
        hooks().post_saved(post=post, form=form if form is not None else {})
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


def delete_post(post: Post) -> None:
    try:
        search.remove_post(post.id)
        db.session.delete(post)
        db.session.flush()
        hooks().post_deleted(post=post)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
