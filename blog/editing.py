"""Writing posts: the one place where posts, their slugs and their terms are saved.

The editor, the CLI and the importers all come through here, so every post is
rendered, sanitised, slugged and announced to plugins the same way.
"""

from dataclasses import dataclass, field

from slugify import slugify
from sqlalchemy.exc import IntegrityError

from blog.database import db
from blog.models import STATUSES, Category, Post, Tag, User, utcnow
from blog.plugins import hooks
from blog.rendering import render_markdown, summarise

# First path segments the site itself uses; a post there could never be reached.
RESERVED_SLUGS = frozenset(
    "admin login logout setup feed category tag author search static uploads page "
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
    return slug in RESERVED_SLUGS or db.session.scalar(query.limit(1)) is not None


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


@dataclass
class PostData:
    """What an author can set on a post."""

    title: str
    body: str = ""
    excerpt: str = ""
    slug: str = ""
    status: str = "draft"
    categories: list[Category] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)


def apply(post: Post, data: PostData) -> None:
    """Copy `data` onto `post`, checking it; raises PostError naming the bad field."""
    title = " ".join(data.title.split())
    if not title:
        raise PostError("title", "Give the post a title.")
    if data.status not in STATUSES:
        raise PostError("status", f"Unknown status {data.status!r}.")
    if data.status == "scheduled" and (post.published_at is None or post.published_at <= utcnow()):
        raise PostError("status", "Only a post with a future date can be scheduled.")

    if data.slug.strip():
        slug = make_slug(data.slug)
        if not slug:
            raise PostError("slug", "Use letters or digits in the slug.")
        if slug in RESERVED_SLUGS:
            raise PostError("slug", f"The slug {slug!r} is used by the site itself.")
        if slug_taken(slug, post.id):
            raise PostError("slug", f"The slug {slug!r} is taken by another post.")
    elif post.slug and post.is_published:
        slug = post.slug  # a published address stays put unless the author changes it
    else:
        slug = unique_slug(make_slug(title), post.id)

    post.title = title
    post.slug = slug
    post.body = data.body
    post.body_html = str(render_markdown(data.body))
    post.excerpt = data.excerpt.strip()
    post.summary = post.excerpt or summarise(post.body_html)
    post.categories = list(data.categories)
    post.tags = list(data.tags)
    if data.status == "published" and (post.published_at is None or post.published_at > utcnow()):
        post.published_at = utcnow()  # "Publish" on a scheduled post means now
    post.status = data.status
    post.updated_at = utcnow()


def save_post(data: PostData, author: User, post: Post | None = None, form=None) -> Post:
    """Create or update a post in one transaction, telling plugins before the commit.

    `form` is what the editor sent, for plugins' own fields; {} from elsewhere.
    """
    try:
        # The new post joins the session through its author; it must not be flushed
        # half-made by the slug queries in apply().
        with db.session.no_autoflush:
            if post is None:
                post = Post(author=author)
                db.session.add(post)
            apply(post, data)
        db.session.flush()
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
        db.session.delete(post)
        db.session.flush()
        hooks().post_deleted(post=post)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
