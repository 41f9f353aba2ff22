"""Importing a WordPress export: authors, terms, posts, pages, media and (via plugins) comments.

The file is read twice, streamed both times. The first pass checks that all of it
is well-formed and collects what later parts refer to (authors, terms, attachments,
totals for the progress bar) before anything is written; the second writes the posts.
Everything happens in one transaction: a file that fails half-way leaves the database
exactly as it was. Posts already imported from the same site (matched by WordPress
id, or guid) are not created twice; their comments are still offered to plugins,
which skip the ones they already have. Posts are written through blog/editing.py's
import_post and accounts through blog/accounts.py, like every other post and account.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from sqlalchemy import or_

from blog.accounts import AccountError, check_email, create_account, username_from
from blog.database import db, refresh_planner_statistics
from blog.editing import (
    MENU_ORDER_LIMIT,
    PostData,
    PostError,
    import_post,
    place_imported_pages,
    term_slug,
)
from blog.media.remote import Policy
from blog.models import Attachment, Category, ImportedItem, Post, Redirect, Tag, User, utcnow
from blog.names import make_slug
from blog.plugins import hooks
from blog.rendering import BodyRefused, link_address, plain_text, sanitise
from blog.security_log import record
from blog.wordpress.content import Media, to_markdown
from blog.wordpress.items import (
    PRESSROOM_CONTENT_DIGEST,
    PRESSROOM_MARKDOWN,
    PRESSROOM_STATUS,
    PRESSROOM_TABLE_OF_CONTENTS,
    WxrAuthor,
    WxrItem,
    WxrSite,
    WxrTerm,
    content_digest,
    whole_number,
)
from blog.wordpress.media import MediaMover
from blog.wordpress.menus import import_menu
from blog.wordpress.wxr import WxrReader

STATUSES = {
    "publish": "published",
    "draft": "draft",
    "pending": "pending",
    "private": "private",
    "future": "scheduled",
}
SKIPPED_STATUSES = {
    "trash": "in WordPress's trash",
    "auto-draft": "an unsaved auto-draft",
    "inherit": "a revision",
}
# The core's kinds, in the summary's order; plugins' kinds (comments) follow them.
KINDS = ("authors", "categories", "tags", "posts", "pages", "attachments")
BATCH = 200  # posts between flushes: the session is emptied, so memory stays flat


@dataclass
class Summary:
    """What an import created, found already there, and skipped (with why), by kind."""

    dry_run: bool = False
    created: Counter = field(default_factory=Counter)
    existing: Counter = field(default_factory=Counter)
    skipped: dict[str, Counter] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_created(self, kind: str, count: int = 1) -> None:
        self.created[kind] += count

    def add_existing(self, kind: str, count: int = 1) -> None:
        self.existing[kind] += count

    def add_skipped(self, kind: str, reason: str, count: int = 1) -> None:
        self.skipped.setdefault(kind, Counter())[reason] += count

    def total(self, kind: str) -> int:
        return self.created[kind] + self.existing[kind] + sum(self.skipped.get(kind, {}).values())

    def lines(self) -> list[str]:
        verb = "would be created" if self.dry_run else "created"
        counted = [*self.created, *self.existing, *self.skipped]  # in the order first counted
        kinds = [kind for kind in dict.fromkeys([*KINDS, *counted]) if self.total(kind)]
        lines = []
        for kind in kinds:
            made = kind in KINDS or self.created[kind] or self.existing[kind]
            parts = [f"{self.created[kind]} {verb}"] if made else []
            if self.existing[kind]:
                parts.append(f"{self.existing[kind]} already there")
            for reason, count in sorted(self.skipped.get(kind, {}).items()):
                parts.append(f"{count} skipped: {reason}")
            lines.append(f"{kind}: {'; '.join(parts)}")
        return lines + self.notes


Progress = Callable[[int, int, int], None]  # (items done, items in all, comments done)


class _Scan:
    """What the first pass learns: the site, its authors and terms, media, totals."""

    def __init__(self):
        self.site = WxrSite()
        self.authors: list[WxrAuthor] = []
        self.terms: list[WxrTerm] = []
        self.attachments: dict[int, WxrItem] = {}
        self.items = 0  # posts and pages
        self.comments = 0


def scan(source) -> _Scan:
    found = _Scan()
    for part in WxrReader(source).read():
        if isinstance(part, WxrSite):
            found.site = part
        elif isinstance(part, WxrAuthor):
            found.authors.append(part)
        elif isinstance(part, WxrTerm):
            found.terms.append(part)
        elif part.type == "attachment":
            part.content = ""  # kept for galleries and featured images: the rest is enough
            found.attachments[part.wp_id] = part
        elif part.type in ("post", "page"):
            found.items += 1
            found.comments += len(part.comments)
    return found


def import_wordpress(
    source: str | BinaryIO,
    dry_run: bool = False,
    progress: Progress | None = None,
    found: "_Scan | None" = None,
    media: Policy | None = None,
) -> Summary:
    """Import a WXR file (a path or an open binary file) in one transaction.

    progress(done, total, comments) is called after each post or page. `media`: fetch
    the export's images into the uploads under this policy (blog/wordpress/media.py).
    """
    summary = Summary(dry_run=dry_run)
    for done, total, comments in import_steps(source, summary, found, media):
        if progress:
            progress(done, total, comments)
    return summary


def import_steps(
    source: str | BinaryIO,
    summary: Summary,
    found: "_Scan | None" = None,
    media: Policy | None = None,
) -> Iterator[tuple[int, int, int]]:
    """The import, yielding (posts done, posts in all, comments done) as it goes.

    What it does is counted in `summary` (summary.dry_run: roll back at the end).
    `found`: the file's scan(), when the caller made it to check the file first.
    Abandoning the generator (a closed browser tab) rolls back.
    """
    if found is None:
        found = scan(source)
    mover = MediaMover(media) if media is not None and not summary.dry_run else None
    if media is not None and summary.dry_run:
        summary.notes.append("media: nothing is downloaded in a dry run")
    try:
        run = _Import(found, summary, mover)
        run.authors()
        run.terms()
        run.attachments()
        done = comments = 0
        post_ids = []
        for part in WxrReader(source).read():
            if not isinstance(part, WxrItem) or part.type == "attachment":
                continue
            if part.type == "nav_menu_item":
                run.menu_items.append(part)  # into the menu once its targets are all in
                continue
            post_id = run.import_item(part)
            if part.type in ("post", "page"):
                done += 1
                comments += len(part.comments)
                if post_id is not None:
                    post_ids.append(post_id)
                yield done, found.items, comments
                if done % BATCH == 0:
                    run.flush()
        run.finish()
        if mover is not None:
            summary.notes.append(
                f"media: {len(mover.moved)} files downloaded into the uploads, "
                f"{len(mover.refused)} left at their old addresses"
            )
        hooks().import_finished(post_ids=post_ids, summary=summary)
        if summary.dry_run:
            db.session.rollback()
        else:
            made = ", ".join(f"{count} {kind}" for kind, count in summary.created.items())
            record("import", detail=f"from {run.source or 'a file'}: {made or 'nothing new'}")
            db.session.commit()
            if post_ids:
                refresh_planner_statistics()
    except BaseException:
        db.session.rollback()
        if mover is not None:
            mover.discard()  # the files of uploads that are not there after all
        raise


class _Import:
    def __init__(self, found: _Scan, summary: Summary, mover: MediaMover | None = None):
        self.found = found
        self.summary = summary
        self.mover = mover
        self.source = (found.site.base_blog_url or found.site.link or "").rstrip("/")
        self.base_path = urlsplit(self.source).path.rstrip("/")
        self.users: dict[str, int] = {}  # login -> user id
        self.categories: dict[str, int] = {}  # WordPress slug -> category id
        self.tags: dict[str, int] = {}
        self.media: dict[int, int] = {}  # WordPress attachment id -> attachment id
        self.posts: dict[int, int] = {}  # WordPress post id -> post id
        self.pending_parents: list[tuple[int, int]] = []  # (attachment id, WordPress parent)
        self.page_parents: dict[int, int] = {}  # page id -> its parent's WordPress id
        self.term_ids: dict[tuple[str, int], int] = {}  # ("category", WordPress id) -> id
        self.menu_items: list[WxrItem] = []  # nav_menu_item, placed once every post is in
        # Every file's address -> attachment id, to note which posts show which files
        # without a query per post.
        self.files = dict(db.session.execute(db.select(Attachment.url, Attachment.id)).all())

    def flush(self) -> None:
        """Write what is pending and let go of it; the transaction stays open.

        Users are kept: the signed-in admin running the import is one of them.
        """
        db.session.flush()
        for instance in list(db.session.identity_map.values()):
            if not isinstance(instance, User):
                db.session.expunge(instance)

    # -- authors ---------------------------------------------------------------------

    def authors(self) -> None:
        for author in self.found.authors:
            self.user_for(author, announced=True)

    def user_for(self, author: WxrAuthor, announced: bool = False) -> int:
        key = _login_key(author.login)
        if key in self.users:
            return self.users[key]
        username = username_from(key)
        email = author.email.strip().lower()
        conditions = [User.username == username]
        if email:
            conditions.append(User.email == email)
        user = db.session.scalar(db.select(User).where(or_(*conditions)).limit(1))
        if user is not None:
            self.summary.add_existing("authors")
        else:
            try:
                email = check_email(email) if email else ""
            except AccountError as error:
                self.summary.notes.append(f"author {author.login!r}: {error} Imported without it.")
                email = ""
            name = author.display_name or " ".join(
                part for part in (author.first_name, author.last_name) if part
            )
            # No password: the account cannot log in until it is given one.
            user = create_account(username, email, role="author", display_name=name)
            self.summary.add_created("authors")
            if not announced:
                self.summary.notes.append(
                    f"author {author.login!r} was not listed in the file's header; created"
                )
        self.users[key] = user.id
        return user.id

    # -- categories and tags ---------------------------------------------------------

    def terms(self) -> None:
        categories = [term for term in self.found.terms if term.kind == "category"]
        for term in categories:
            self.term_ids["category", term.wp_id or 0] = self.term_id(Category, term)
        for term in categories:
            if term.parent_slug and term.parent_slug in self.categories:
                category = db.session.get(Category, self.categories[term.slug])
                if category.parent_id is None:
                    category.parent_id = self.categories[term.parent_slug]
            elif term.parent_slug:
                self.summary.notes.append(
                    f"category {term.name!r}: its parent {term.parent_slug!r} is not in the "
                    "file; kept at the top level"
                )
        for term in self.found.terms:
            if term.kind == "tag":
                self.term_ids["tag", term.wp_id or 0] = self.term_id(Tag, term)

    def term_id(self, model, term: WxrTerm) -> int:
        """The id of the category or tag a WordPress term becomes, created if new."""
        known = self.categories if model is Category else self.tags
        kind = "categories" if model is Category else "tags"
        key = term.slug or term.name.lower()
        if key in known:
            return known[key]
        name = " ".join(term.name.split())[:200] or key[:200]
        slug = (term.slug or make_slug(name) or "term")[:200].lower()
        existing = db.session.scalar(db.select(model).where(model.slug == slug))
        if existing is None:
            existing = db.session.scalar(db.select(model).where(model.name == name))
            if existing is not None and existing.id in known.values():
                # Two terms of the file share a name (under different parents in
                # WordPress); ours are unique by name, so the second is told apart.
                name, existing = f"{name} ({slug})"[:200], None
        if existing is not None:
            self.summary.add_existing(kind)
            known[key] = existing.id
            return existing.id
        values = {"name": name, "slug": term_slug(model, slug)}
        if model is Category:
            values["description"] = plain_text(term.description)
        created = model(**values)
        db.session.add(created)
        db.session.flush()
        self.summary.add_created(kind)
        known[key] = created.id
        return created.id

    # -- media -------------------------------------------------------------------------

    def attachments(self) -> None:
        for item in self.found.attachments.values():
            record = self.earlier_import(item)
            if record is not None and record.attachment_id:
                self.media[item.wp_id] = record.attachment_id
                self.summary.add_existing("attachments")
                continue
            url = link_address(item.attachment_url or item.guid)
            if url is None:
                self.summary.add_skipped("attachments", "no address for the file")
                continue
            alt = item.meta_value("_wp_attachment_image_alt")[:500]
            attachment = None
            if self.mover is not None and _mime_type(url).startswith("image/"):
                attachment = self.mover.attachment(url, alt)
                if attachment is None:
                    self.summary.notes.append(
                        f"attachment {item.title!r} stayed at {url}: {self.mover.refused[url]}"
                    )
            if attachment is None:
                attachment = Attachment(url=url[:2000], alt_text=alt, mime_type=_mime_type(url))
            attachment.title = plain_text(item.title)[:300] or attachment.title or ""
            attachment.caption = plain_text(item.excerpt)
            attachment.created_at = item.date or utcnow()
            db.session.add(attachment)
            db.session.flush()
            self.files[attachment.url] = attachment.id
            db.session.add(
                ImportedItem(
                    source=self.source[:500],
                    wp_id=item.wp_id,
                    guid=item.guid[:500],
                    attachment_id=attachment.id,
                )
            )
            self.media[item.wp_id] = attachment.id
            if item.parent_wp_id:
                self.pending_parents.append((attachment.id, item.parent_wp_id))
            self.summary.add_created("attachments")

    def gallery(self, post_wp_id: int) -> Callable[[list[int]], list[Media]]:
        def images(ids: list[int]) -> list[Media]:
            if not ids:  # WordPress shows the post's own attachments, in order
                ids = [
                    wp_id
                    for wp_id, item in self.found.attachments.items()
                    if item.parent_wp_id == post_wp_id
                ]
            found = []
            for wp_id in ids:
                item = self.found.attachments.get(wp_id)
                url = link_address(item.attachment_url) if item is not None else None
                if url is not None and _mime_type(url).startswith("image/"):
                    found.append(
                        Media(
                            url=url,
                            alt=item.meta_value("_wp_attachment_image_alt"),
                            caption=plain_text(item.excerpt),
                        )
                    )
            return found

        return images

    # -- posts and pages ---------------------------------------------------------------

    def earlier_import(self, item: WxrItem) -> ImportedItem | None:
        """This item's record from an earlier import: same site and id, or same guid.

        The guid is asked only of other sites' records (a blog that moved to a new
        address keeps its guids); within one export, guids are not always unique.
        """
        found = db.session.scalar(
            db.select(ImportedItem).where(
                ImportedItem.source == self.source[:500], ImportedItem.wp_id == item.wp_id
            )
        )
        if found is None and item.guid:
            found = db.session.scalar(
                db.select(ImportedItem)
                .where(
                    ImportedItem.guid == item.guid[:500],
                    ImportedItem.source != self.source[:500],
                    (
                        ImportedItem.attachment_id
                        if item.type == "attachment"
                        else ImportedItem.post_id
                    ).is_not(None),
                )
                .limit(1)
            )
        return found

    def import_item(self, item: WxrItem) -> int | None:
        """Import one post or page (or count why not); its id, or None when skipped."""
        kind = {"post": "posts", "page": "pages"}.get(item.type)
        if kind is None:
            self.summary.add_skipped(
                "other items", f"{item.type} (Pressroom has no such kind of content)"
            )
            return None
        if item.status in SKIPPED_STATUSES or item.status not in STATUSES:
            reason = SKIPPED_STATUSES.get(item.status, f"unknown status {item.status!r}")
            self.summary.add_skipped(kind, reason)
            hooks().item_skipped(item=item, reason=reason, summary=self.summary)
            return None
        record = self.earlier_import(item)
        if record is not None and record.post_id:
            post = db.session.get(Post, record.post_id)
            self.summary.add_existing(kind)
        else:
            try:
                post = self.create_post(item, kind)
            except (PostError, BodyRefused) as refused:  # a body the site will not render
                reason = f"{item.title!r}: {refused}"
                self.summary.add_skipped(kind, reason)
                hooks().item_skipped(item=item, reason=reason, summary=self.summary)
                return None
        self.posts[item.wp_id] = post.id
        hooks().post_imported(post=post, item=item, summary=self.summary)
        return post.id

    def create_post(self, item: WxrItem, kind: str) -> Post:
        # Pressroom's own export, unchanged since: its Markdown word for word (refused, if
        # need be, as it renders, like any body typed in the editor).
        own = PRESSROOM_MARKDOWN in item.meta and (
            item.meta_value(PRESSROOM_CONTENT_DIGEST) == content_digest(item.content)
        )
        if own:
            body = item.meta_value(PRESSROOM_MARKDOWN)
        else:
            body = to_markdown(item.content, self.gallery(item.wp_id))  # may refuse: first
        if self.mover is not None:
            body, left = self.mover.rewrite(body)
            self.summary.notes += [
                f"{kind[:-1]} {item.title!r}: an image stayed at {reason}" for reason in left
            ]
        status = STATUSES[item.status]
        if status == "private" and item.meta_value(PRESSROOM_STATUS) == "unlisted":
            status = "unlisted"  # exported by Pressroom, which has this status
        if item.password and status in ("published", "unlisted"):
            # Pressroom has no post passwords: never show the protected text to everyone.
            status = "private"
            self.summary.notes.append(
                f"{kind[:-1]} {item.title!r} had a password in WordPress; imported as private"
            )
        title = plain_text(item.title)[:300] or "(no title)"
        date = item.date or utcnow()
        if status == "scheduled" and date <= utcnow():
            status = "published"  # WordPress's "missed schedule": it was meant to be out
            self.summary.notes.append(
                f"{kind[:-1]} {item.title!r} was scheduled for a time now past; published"
            )
        creator = item.creator or "admin"
        author_id = self.users.get(_login_key(creator)) or self.user_for(WxrAuthor(login=creator))
        categories, tags = [], []
        for domain, slug, name in item.terms:
            if domain == "category":
                term = WxrTerm(kind="category", slug=slug, name=name)
                categories.append(self.term_id(Category, term))
            elif domain == "post_tag":
                term = WxrTerm(kind="tag", slug=slug, name=name)
                tags.append(self.term_id(Tag, term))
        data = PostData(
            title=title,
            body=body,
            excerpt=plain_text(sanitise(item.excerpt)),
            slug=make_slug(item.slug) or make_slug(title) or f"post-{item.wp_id}",
            number_taken_slug=True,  # the old address where it is free, numbered if not
            status=status,
            categories=[db.session.get(Category, id) for id in dict.fromkeys(categories)],
            tags=[db.session.get(Tag, id) for id in dict.fromkeys(tags)],
            published_at=None if status in ("draft", "pending") else date,
            type=item.type,
            sticky=item.sticky and item.type == "post",
            menu_order=max(-MENU_ORDER_LIMIT, min(item.menu_order, MENU_ORDER_LIMIT)),
            featured_image_id=self.media.get(whole_number(item.meta_value("_thumbnail_id"))),
            written_at=date,
            table_of_contents=own and item.meta_value(PRESSROOM_TABLE_OF_CONTENTS) == "1",
        )
        post = import_post(data, author_id, known_files=self.files)
        db.session.add(
            ImportedItem(
                source=self.source[:500], wp_id=item.wp_id, guid=item.guid[:500], post_id=post.id
            )
        )
        for path in self.old_paths(item, post.slug):
            if not db.session.scalar(db.select(Redirect.id).where(Redirect.path == path)):
                db.session.add(Redirect(path=path, post_id=post.id))
                db.session.flush()
        if item.type == "page" and item.parent_wp_id:
            self.page_parents[post.id] = item.parent_wp_id
        self.summary.add_created(kind)
        return post

    def old_paths(self, item: WxrItem, slug: str) -> list[str]:
        """The addresses the post had on the old site, other than its new one."""
        link = urlsplit(item.link)
        path = unquote(link.path)
        if self.base_path and path.startswith(self.base_path + "/"):
            path = path[len(self.base_path) :]
        paths = []
        if path not in ("", "/") and not link.query:  # "/?p=123" is answered by wp_id
            paths.append(path)
            # Old slugs WordPress kept redirecting: the same address with the old name.
            trailing = path.endswith("/")
            stem = path.rstrip("/").rsplit("/", 1)[0]
            for old in item.meta.get("_wp_old_slug", []):
                if old:
                    paths.append(f"{stem}/{unquote(old)}" + ("/" if trailing else ""))
        new = f"/{slug}/"
        return [p for p in dict.fromkeys(paths) if p != new and len(p) <= 500]

    def finish(self) -> None:
        for attachment_id, parent_wp_id in self.pending_parents:
            if parent_wp_id in self.posts:
                attachment = db.session.get(Attachment, attachment_id)
                attachment.post_id = self.posts[parent_wp_id]
        db.session.flush()
        parents = {}
        for page_id, parent_wp_id in self.page_parents.items():
            parent_id = self.posts.get(parent_wp_id) or self.earlier_post(parent_wp_id)
            if parent_id is None:
                title = db.session.get(Post, page_id).title
                self.summary.notes.append(
                    f"page {title!r}: its parent page is not in the export; kept at the top level"
                )
            else:
                parents[page_id] = parent_id
        self.summary.notes += [f"page {reason}" for reason in place_imported_pages(parents)]
        import_menu(self.menu_items, self.menu_target, self.source, self.summary)

    def menu_target(self, kind: str, wp_id: int):
        """The post ("post"), category or tag that WordPress object `wp_id` became."""
        if kind == "post":
            post_id = self.posts.get(wp_id) or self.earlier_post(wp_id)
            return db.session.get(Post, post_id) if post_id else None
        found = self.term_ids.get((kind, wp_id))
        return db.session.get(Category if kind == "category" else Tag, found) if found else None

    def earlier_post(self, wp_id: int) -> int | None:
        """The post an earlier import of the same site made of WordPress post `wp_id`."""
        return db.session.scalar(
            db.select(ImportedItem.post_id).where(
                ImportedItem.source == self.source[:500], ImportedItem.wp_id == wp_id
            )
        )


def _login_key(login: str) -> str:
    # Hand-edited exports carry strays such as ">themereviewteam" for "themereviewteam".
    return login.strip().strip("<>\"'").strip().lower() or "admin"


_MIME = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "pdf": "application/pdf",
    "zip": "application/zip",
}


def _mime_type(url: str) -> str:
    """The type WordPress's export leaves out, from the file's extension."""
    extension = urlsplit(url).path.rsplit(".", 1)[-1].lower()
    return _MIME.get(extension, "application/octet-stream")
