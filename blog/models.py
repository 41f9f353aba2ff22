"""The core's data: users, posts, and the categories and tags that group posts."""

import functools
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    false,
    or_,
    select,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from blog.database import db

# Admins run the site; editors edit and publish every post; authors write and publish
# their own; contributors write their own and submit them for review (WordPress's roles).
ROLES = ("admin", "editor", "author", "contributor")
REVIEW_STATUSES = ("draft", "pending")  # what a contributor may give a post
# "pending": waiting for an editor's review; "private": published for the site's own
# users only; "scheduled": to go out at published_at by itself (blog/scheduling.py);
# "unlisted": public to whoever has the address, but in no list, feed or sitemap.
STATUSES = ("draft", "pending", "published", "unlisted", "private", "scheduled")
PUBLIC_STATUSES = ("published", "unlisted")
STATUS_LABELS = {
    "draft": "Draft",
    "pending": "Pending review",
    "published": "Published",
    "unlisted": "Unlisted",
    "private": "Private",
    "scheduled": "Scheduled",
}
# What each status means, for the editor's help under the Status select.
STATUS_HELP = {
    "draft": "Draft: only you and the editors see it.",
    "pending": "Pending review: an editor reads it and publishes it.",
    "published": "Published: on the home page, in lists and feeds, for everyone.",
    "unlisted": "Unlisted: anyone with the address can read it; it is in no list, feed or search.",
    "private": "Private: only the site's editors and its author can read it.",
    "scheduled": "Scheduled: it goes out by itself at the publish date.",
}


def utcnow() -> datetime:
    # Stored naive, always UTC: SQLite keeps no time zone and PostgreSQL columns here are
    # `timestamp without time zone`, so both databases return the same kind of value.
    return datetime.now(UTC).replace(tzinfo=None)


@functools.cache
def _stand_in_hash() -> str:
    """A hash of a password nobody knows, made as every account's is."""
    return generate_password_hash(secrets.token_urlsafe(16))


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # Both kept lower-case, so that lookups match regardless of case and use the index.
    username: Mapped[str] = mapped_column(String(60), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20), default="author")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # In every session and remember-me cookie (get_id): raised, it ends them all at once
    # (logging out, a new password or role, "log out everywhere", disabling; accounts.py).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())  # may log in
    # Two-factor login (blog/two_factor.py): the authenticator app's secret, and the time
    # step of the last code accepted (a code works once).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None] = mapped_column()

    posts: Mapped[list["Post"]] = relationship(back_populates="author")

    def get_id(self) -> str:
        """What a session and a remember-me cookie keep: the id and the generation."""
        return f"{self.id}:{self.session_generation}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether this is the password. An account without one (an imported author, or a
        stand-in User() when nobody has the name) never logs in, but is checked against a
        hash all the same: the answer takes as long, so its time tells nobody which
        accounts exist (98 ms against 5 ms before)."""
        matches = check_password_hash(self.password_hash or _stand_in_hash(), password)
        return bool(self.password_hash) and matches

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def edits_every_post(self) -> bool:
        """Editors and admins: every post, its comments and files; the others their own."""
        return self.role in ("admin", "editor")

    @property
    def may_publish(self) -> bool:
        """All but contributors, whose posts an editor reviews and publishes."""
        return self.role != "contributor"

    def can_edit(self, post: "Post") -> bool:
        """Editors and admins edit every post; an author their own; a contributor their
        own until it is published (as in WordPress: a published post is the editors')."""
        if self.edits_every_post:
            return True
        if post.author_id != self.id:
            return False
        return self.may_publish or post.status in REVIEW_STATUSES


post_category = Table(
    "post_category",
    db.Model.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves "categories of a post"; this serves "posts in a category".
    Index("ix_post_category_category_id", "category_id", "post_id"),
)

post_tag = Table(
    "post_tag",
    db.Model.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_post_tag_tag_id", "tag_id", "post_id"),
)


class Category(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), index=True
    )

    parent: Mapped["Category | None"] = relationship(remote_side=[id])
    posts: Mapped[list["Post"]] = relationship(
        secondary=post_category, back_populates="categories", passive_deletes=True
    )

    @classmethod
    def subtree_ids(cls, category_id: int):
        """A select of the category's id and its descendants' at any depth, as WordPress
        lists a parent's posts with its children's. One recursive query; UNION (not UNION
        ALL) ends even on a loop of parents."""
        tree = select(cls.id).where(cls.id == category_id).cte("subtree", recursive=True)
        tree = tree.union(select(cls.id).where(cls.parent_id == tree.c.id))
        return select(tree.c.id)


class Tag(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)

    posts: Mapped[list["Post"]] = relationship(
        secondary=post_tag, back_populates="tags", passive_deletes=True
    )


class Post(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, as the author wrote it
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised
    excerpt: Mapped[str] = mapped_column(Text, default="")  # the author's own, may be empty
    summary: Mapped[str] = mapped_column(Text, default="")  # excerpt, or the body's opening
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # "post", or "page": outside the flow of time (About, Contact), with an address but
    # absent from the home page, feeds, archives and related posts (see is_listed).
    type: Mapped[str] = mapped_column(String(20), default="post")
    sticky: Mapped[bool] = mapped_column(default=False)  # shown first on the home page
    featured_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL", use_alter=True), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Counts saves. The editor sends back the number it was opened at, so that a save
    # from a stale tab is caught instead of silently undoing someone's newer words.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # In every share-a-draft link made for the post; raising it withdraws them all.
    share_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # Pages only, as in WordPress: the page this one sits under (its address is
    # /parent/child/, see path), and where it comes among its parent's pages (lower first).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="SET NULL"), index=True
    )
    menu_order: Mapped[int] = mapped_column(default=0, server_default="0")
    # A table of contents at the top of the body (a "[toc]" line places one anyway).
    table_of_contents: Mapped[bool] = mapped_column(default=False, server_default=false())

    author: Mapped[User] = relationship(back_populates="posts")
    categories: Mapped[list[Category]] = relationship(
        secondary=post_category,
        back_populates="posts",
        order_by=Category.name,
        passive_deletes=True,
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary=post_tag, back_populates="posts", order_by=Tag.name, passive_deletes=True
    )
    parent: Mapped["Post | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])

    __table_args__ = (
        # Every public list is "published, newest first".
        Index("ix_post_status_published_at", "status", "published_at"),
        Index("ix_post_author_id_status", "author_id", "status", "published_at"),
        Index("ix_post_updated_at", "updated_at"),
        # The home page: listed posts that are not sticky, newest first.
        Index("ix_post_listing", "type", "status", "sticky", "published_at"),
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def is_public(self) -> bool:
        """Anyone may read it: published, or unlisted (by its address only)."""
        return self.status in PUBLIC_STATUSES

    @hybrid_property
    def is_listed(self) -> bool:
        """Shown in lists, feeds and related posts: a published post, not a page."""
        return self.status == "published" and self.type == "post"

    @is_listed.inplace.expression
    @classmethod
    def _is_listed_expression(cls):
        return and_(cls.status == "published", cls.type == "post")

    @property
    def path(self) -> str:
        """Its address below the site's root, without the slashes around it: the slug, under
        the slugs of the published pages above it for a page ("about/team" is /about/team/,
        as in WordPress). An unpublished parent is left out: an address must not give away
        a draft's slug (its title), nor an unlisted page's address. Ends on a loop of parents.
        """
        slugs = [self.slug]
        seen = {self.id}
        parent = self.parent if self.type == "page" else None
        while parent is not None and parent.type == "page" and parent.id not in seen:
            seen.add(parent.id)
            if parent.is_published:
                slugs.append(parent.slug)
            parent = parent.parent
        return "/".join(reversed(slugs))

    @property
    def date(self) -> datetime:
        """The date readers see: when it went out, or when it was written."""
        return self.published_at or self.created_at


class Revision(db.Model):
    """A post's title, body and excerpt as they were at one save.

    kind "save" is kept for good (restoring one saves a new one); "autosave" is the
    one copy per post and author that the editor writes while someone types, removed
    when they save.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="save")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(300), default="")  # "Restored from …"

    author: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_revision_post_id_kind", "post_id", "kind", "created_at"),)

    @classmethod
    def autosave_of(cls, post_id: int, author_id: int | None):
        """The condition that picks one author's autosave copy of one post."""
        return and_(cls.post_id == post_id, cls.kind == "autosave", cls.author_id == author_id)

    @classmethod
    def shown_to(cls, user_id: int):
        """Saved versions, and this user's own autosave: another person's autosave is
        their unsaved work, for nobody else to read or restore."""
        return or_(cls.kind != "autosave", cls.author_id == user_id)


class Attachment(db.Model):
    """A file a post refers to: an image, a sound, a document.

    `url` is where it lives: a file under uploads/ (`path`, relative to the uploads
    folder, then says which), or, for imported media, the address it had on the old
    site (an importer never needs to download it).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    alt_text: Mapped[str] = mapped_column(String(500), default="")
    mime_type: Mapped[str] = mapped_column(String(100), default="")
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Uploaded files only: the stored original and its smaller copies for srcset.
    path: Mapped[str] = mapped_column(String(500), default="", server_default="", index=True)
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    size_bytes: Mapped[int] = mapped_column(default=0, server_default="0")
    srcset: Mapped[str] = mapped_column(Text, default="", server_default="")  # "u 480w, u 960w"
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    uploader: Mapped[User | None] = relationship()

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


Post.featured_image = relationship(Attachment, foreign_keys=[Post.featured_image_id])

# Which posts show which files (in the body, or as the featured image): the media library
# says where a file is used before it is deleted. Kept by blog/media/usage.py on every save.
attachment_use = Table(
    "attachment_use",
    db.Model.metadata,
    Column("attachment_id", ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_attachment_use_post_id", "post_id", "attachment_id"),
)


class Redirect(db.Model):
    """An old address of a post (from an earlier site, or an earlier slug): 301 to it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)  # "/2024/01/05/a-post/"
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"), index=True)


class ImportedItem(db.Model):
    """What a post or attachment was on the site it was imported from.

    Re-importing the same export finds its posts here (by WordPress guid and id)
    instead of creating them twice; `/?p=123` links are answered from wp_id.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))  # the old site's address
    wp_id: Mapped[int] = mapped_column(index=True)
    guid: Mapped[str] = mapped_column(String(500), default="", index=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (Index("ux_imported_item_source_wp_id", "source", "wp_id", unique=True),)


# Every table defined above; a plugin's tables are named "<plugin>_<thing>".
class SecurityEvent(db.Model):
    """One line of the admins' security log (blog/security_log.py writes them all).

    Names are copied, not only linked: the line still says who, once an account is
    renamed or gone, and for a failed login to an account that never existed.
    """

    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    event: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(60), default="")  # "" for a visitor or the CLI
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    account_name: Mapped[str] = mapped_column(String(254), default="")  # as typed, for a login
    address: Mapped[str] = mapped_column(String(45), default="")  # "" from the command line
    detail: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (Index("ix_security_event_event_created_at", "event", "created_at"),)


class RecoveryCode(db.Model):
    """A single-use code that stands in for the two-factor code (a lost phone): its hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column()


class Passkey(db.Model):
    """A WebAuthn credential of a user (blog/passkeys.py): its id and public key; the
    private key never leaves the person's device."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE
    sign_count: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()


class Job(db.Model):
    """A background job waiting, running or failed, when the queue is the database
    (blog/jobs.py; with Redis, RQ keeps them). A job that succeeds is deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    arguments: Mapped[str] = mapped_column(Text)  # JSON
    state: Mapped[str] = mapped_column(String(10), default="queued")  # running, failed
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_job_state_run_after", "state", "run_after"),)


class MenuItem(db.Model):
    """One link of the site's navigation menu (blog/menus.py), edited at /admin/menu.

    It points at a post or page, a category, a tag (whose address and name it follows
    when they change), or any address (`url`). Items sit in `position` order, at the top
    or under a top-level item (one level of nesting). An item whose post, category or tag
    is deleted goes with it; the items under it come up to the top level.
    """

    __tablename__ = "menu_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("menu_item.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(String(200), default="")  # "": the target's own name
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), index=True
    )
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000), default="")

    post: Mapped[Post | None] = relationship()
    category: Mapped[Category | None] = relationship()
    tag: Mapped[Tag | None] = relationship()


# Every table above; plugins' tables are named after their plugin ("comments_...").
CORE_TABLES = frozenset(db.Model.metadata.tables)
