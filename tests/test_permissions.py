"""Who may do what, for every route: one table, walked as five people and a contributor.

Every rule of app.url_map (all built-in plugins on), with each method it takes, is asked
by a visitor, the owner of the things it names (an author), another author, an editor
and an admin; and by a contributor, who gets what another author gets unless the table
says otherwise. The ids in the addresses belong to the owner: the other author asks for
someone else's post, comment, file, revision and account. Each answer must be the one the
table says; a route missing from the table fails `test_every_route_is_in_the_table`, so a
new route cannot slip past.

A request that is refused (403, 404, a redirect to the login page) and every GET must
write nothing to the database: state changes only by POST, and only when allowed.
`test_every_post_needs_the_csrf_token` asks every POST again without the token.
"""

import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from sqlalchemy import event

from blog import sharing
from blog.auth import password_link
from blog.database import db
from blog.editing import PostData, categories_from_names, save_post, tags_from_names
from blog.media.storage import store_image
from blog.models import MenuItem, Passkey, Revision, User
from plugins.comments.models import Comment
from plugins.comments.views import form_started
from tests.conftest import TEST_PASSWORD_HASH
from tests.test_hooks import WXR_WITH_ONE_POST

PLUGINS = ("categories", "related_posts", "comments")
PEOPLE = ("visitor", "owner", "other", "editor", "admin")
LOGIN = "login"  # a redirect to the login page

_made = itertools.count(1)


@dataclass
class World:
    """What one request is asked about: the owner's things, made fresh for it."""

    sessions: dict = field(default_factory=dict)  # role → what the session cookie holds
    ids: dict = field(default_factory=dict)  # placeholder → value used in addresses

    def fill(self, text: str, role: str = "") -> str:
        return text.format(**self.ids, role=role)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def make_world() -> World:
    """Four accounts and the owner's things: a draft with a saved revision and the owner's
    private autosave, a published post in a category with a tag, a pending comment and an
    image, an uploaded image no post shows, a share link and a password link."""
    n = next(_made)
    world, people = World(), {}
    for role, account_role in (("owner", "author"), ("other", "author"), ("editor", "editor"),
                               ("admin", "admin"), ("contributor", "contributor")):  # fmt: skip
        user = User(username=f"{role}{n}", email=f"{role}{n}@example.com", role=account_role)
        user.password_hash = TEST_PASSWORD_HASH  # "password123"
        db.session.add(user)
        people[role] = user
    db.session.commit()
    world.sessions = {role: user.get_id() for role, user in people.items()}
    owner = people["owner"]
    draft = save_post(PostData(title=f"Draft {n}", body="First words.", status="draft"), owner)
    draft = save_post(
        PostData(title=f"Draft {n}", body="Second words.", status="draft", slug=draft.slug),
        owner,
        post=draft,
    )
    saved = db.session.scalar(
        db.select(Revision).where(Revision.post_id == draft.id, Revision.kind == "save")
    )
    autosave = Revision(post_id=draft.id, author_id=owner.id, kind="autosave",
                        title="Private", body="Typed, not saved.", excerpt="")  # fmt: skip
    db.session.add(autosave)
    shown = store_image(png_bytes(), f"shown{n}.png", "Shown", owner)
    published = save_post(
        PostData(
            title=f"Published {n}",
            body=f"Out there. ![Shown]({shown.url})",
            status="published",
            categories=categories_from_names([f"Topic {n}"], create=True),
            tags=tags_from_names([f"tag{n}"]),
        ),
        owner,
    )
    comment = Comment(post_id=published.id, author_name="Reader", author_email="r@example.com",
                      body="Hi", body_html="<p>Hi</p>", status="pending")  # fmt: skip
    db.session.add(comment)
    db.session.commit()
    image = store_image(png_bytes(), f"picture{n}.png", "A picture", owner)
    passkey = Passkey(user_id=owner.id, credential_id=f"key-{n}", public_key=b"cose", name="Phone")
    menu_item = MenuItem(label=f"Menu {n}", url="/archive/")
    db.session.add_all([passkey, menu_item])
    db.session.commit()
    world.ids = {
        "draft": draft.id,
        "draft_slug": draft.slug,
        "published": published.id,
        "published_slug": published.slug,
        "year": published.published_at.year,
        "month": f"{published.published_at.month:02d}",
        "category": published.categories[0].id,
        "category_slug": published.categories[0].slug,
        "tag_slug": published.tags[0].slug,
        "comment": comment.id,
        "attachment": image.id,
        "upload": image.path,
        "passkey": passkey.id,
        "menu_item": menu_item.id,
        "shown_upload": shown.path,
        "revision": saved.id,
        "autosave": autosave.id,
        "owner": owner.id,
        "owner_name": owner.username,
        "share_token": sharing.share_link(draft, timedelta(days=1)).rsplit("/preview/", 1)[1],
        "password_token": password_link(owner).rsplit("/password/", 1)[1],
        "started": form_started(current_app, str(published.id)),
        "n": n,
    }
    return world


@dataclass
class Ask:
    """One request and the answer each person gets, in PEOPLE's order."""

    rule: str
    method: str
    path: str
    answers: tuple
    data: dict | None = None
    files: dict | None = None
    note: str = ""
    contributor: int | str | None = None  # None: what another author gets

    def __post_init__(self):
        assert len(self.answers) == len(PEOPLE), self.rule

    def answer_for(self, role: str) -> int | str:
        if role == "contributor":
            return self.contributor or self.answer_for("other")
        return self.answers[PEOPLE.index(role)]


def upload():
    return {"image": (io.BytesIO(png_bytes()), "new.png"), "alt_text": "New"}


ALL_200 = (200,) * 5
ADMIN_ONLY = (LOGIN, 403, 403, 403, 200)
EDITORS = (LOGIN, 403, 403, 200, 200)
LOGGED_IN = (LOGIN, 200, 200, 200, 200)
OWNER_AND_EDITORS = (LOGIN, 200, 403, 200, 200)

TABLE = [
    # The public site.
    Ask("/", "GET", "/", ALL_200),
    Ask("/<int:year>/", "GET", "/{year}/", ALL_200),
    Ask("/<int:year>/<int(fixed_digits=2):month>/", "GET", "/{year}/{month}/", ALL_200),
    Ask("/<int:year>/feed/", "GET", "/{year}/feed/", ALL_200),
    Ask("/<int:year>/feed/json/", "GET", "/{year}/feed/json/", ALL_200),
    Ask("/<int:year>/<int(fixed_digits=2):month>/feed/", "GET", "/{year}/{month}/feed/", ALL_200),
    Ask(
        "/<int:year>/<int(fixed_digits=2):month>/feed/json/",
        "GET",
        "/{year}/{month}/feed/json/",
        ALL_200,
    ),
    Ask("/<path:slug>/", "GET", "/{published_slug}/", ALL_200),
    Ask(
        "/<path:slug>/",
        "GET",
        "/{draft_slug}/",
        (404, 200, 404, 200, 200),
        note="a draft: only those who may edit it see it",
    ),
    Ask(
        "/<path:slug>/",
        "GET",
        "/2024/{draft_slug}/",
        (404,) * 5,
        note="a post (not a page) by a longer path: there is none, for anyone",
    ),
    Ask("/archive/", "GET", "/archive/", ALL_200),
    # Its tables made by create_all, this site has no migration recorded (tests/test_health.py).
    Ask("/healthz", "GET", "/healthz", (503,) * 5),
    Ask("/author/<username>/", "GET", "/author/{owner_name}/", ALL_200),
    Ask("/author/<username>/feed/", "GET", "/author/{owner_name}/feed/", ALL_200),
    Ask("/author/<username>/feed/json/", "GET", "/author/{owner_name}/feed/json/", ALL_200),
    Ask("/category/<slug>/", "GET", "/category/{category_slug}/", ALL_200),
    Ask("/category/<slug>/feed/", "GET", "/category/{category_slug}/feed/", ALL_200),
    Ask("/category/<slug>/feed/json/", "GET", "/category/{category_slug}/feed/json/", ALL_200),
    Ask("/tag/<slug>/", "GET", "/tag/{tag_slug}/", ALL_200),
    Ask("/tag/<slug>/feed/", "GET", "/tag/{tag_slug}/feed/", ALL_200),
    Ask("/tag/<slug>/feed/json/", "GET", "/tag/{tag_slug}/feed/json/", ALL_200),
    Ask("/feed/", "GET", "/feed/", ALL_200),
    Ask("/feed/json/", "GET", "/feed/json/", ALL_200),
    Ask("/comments/<slug>/feed/", "GET", "/comments/{published_slug}/feed/", ALL_200),
    Ask("/comments/<slug>/feed/json/", "GET", "/comments/{published_slug}/feed/json/", ALL_200),
    Ask(
        "/comments/<slug>/feed/json/",
        "GET",
        "/comments/{draft_slug}/feed/json/",
        (404,) * 5,
        note="a draft's comments: in no feed, for anyone",
    ),
    Ask("/search", "GET", "/search?q=published", ALL_200),
    Ask("/search/feed/", "GET", "/search/feed/?q=published", ALL_200),
    Ask("/search/feed/json/", "GET", "/search/feed/json/?q=published", ALL_200),
    Ask("/robots.txt", "GET", "/robots.txt", ALL_200),
    Ask("/sitemap.xml", "GET", "/sitemap.xml", ALL_200),
    Ask("/sitemap-<int:number>.xml", "GET", "/sitemap-0.xml", ALL_200),
    Ask("/static/<path:filename>", "GET", "/static/style.css", ALL_200),
    Ask("/site/<path:filename>", "GET", "/site/custom.css", ALL_200),
    Ask("/comments/static/<path:filename>", "GET", "/comments/static/comments.css", ALL_200),
    Ask("/uploads/<path:filename>", "GET", "/uploads/{shown_upload}", ALL_200),
    Ask(
        "/uploads/<path:filename>",
        "GET",
        "/uploads/{upload}",
        (404, 200, 404, 200, 200),
        note="in no public post: its uploader's and the editors' until one shows it",
    ),
    Ask(
        "/preview/<token>",
        "GET",
        "/preview/{share_token}",
        ALL_200,
        note="a share link opens the draft for anyone who has it",
    ),
    Ask(
        "/comments/<int:post_id>/",
        "POST",
        "/comments/{published}/",
        (303,) * 5,
        data={
            "name": "Reader",
            "email": "reader@example.com",
            "body": "Nice post.",
            "started": "{started}",
        },
    ),
    Ask(
        "/comments/<int:post_id>/",
        "POST",
        "/comments/{draft}/",
        (404,) * 5,
        data={"name": "Reader", "email": "reader@example.com", "body": "Nice post."},
        note="no comments on a post nobody can read",
    ),
    # Accounts.
    Ask("/login", "GET", "/login", (200, 302, 302, 302, 302)),
    Ask(
        "/login",
        "POST",
        "/login",
        (302, 302, 302, 302, 302),
        data={"username": "owner{n}", "password": "password123"},
    ),
    Ask("/logout", "POST", "/logout", (302,) * 5),
    Ask(
        "/login/two-factor",
        "GET",
        "/login/two-factor",
        (302,) * 5,
        note="back to the login: no password was given",
    ),  # fmt: skip
    Ask("/login/two-factor", "POST", "/login/two-factor", (302,) * 5, data={"code": "123456"}),
    Ask("/admin/profile/two-factor", "GET", "/admin/profile/two-factor", LOGGED_IN),
    Ask(
        "/admin/profile/two-factor",
        "POST",
        "/admin/profile/two-factor",
        (LOGIN, 422, 422, 422, 422),
        data={"code": "000000"},
    ),  # fmt: skip
    Ask(
        "/admin/profile/two-factor/manage",
        "POST",
        "/admin/profile/two-factor/manage",
        (LOGIN, 404, 404, 404, 404),
        data={"password": "password123", "action": "codes"},
        note="nobody here has two-factor on yet",
    ),  # fmt: skip
    Ask(
        "/admin/users/<int:user_id>/two-factor/reset",
        "POST",
        "/admin/users/{owner}/two-factor/reset",
        (LOGIN, 403, 403, 403, 302),
    ),  # fmt: skip
    Ask("/login/passkey/options", "POST", "/login/passkey/options", ALL_200),
    Ask(
        "/login/passkey",
        "POST",
        "/login/passkey",
        (400,) * 5,
        data={"credential": "{{}}"},
        note="no challenge was asked for",
    ),  # fmt: skip
    Ask(
        "/login/two-factor/passkey/options",
        "POST",
        "/login/two-factor/passkey/options",
        (400,) * 5,
        note="no password was given",
    ),  # fmt: skip
    Ask("/login/two-factor/passkey", "POST", "/login/two-factor/passkey", (400,) * 5),
    Ask("/admin/profile/passkeys/options", "POST", "/admin/profile/passkeys/options", LOGGED_IN),
    Ask(
        "/admin/profile/passkeys",
        "POST",
        "/admin/profile/passkeys",
        (LOGIN, 400, 400, 400, 400),
        data={"credential": "{{}}"},
    ),  # fmt: skip
    Ask(
        "/admin/profile/passkeys/<int:passkey_id>/delete",
        "POST",
        "/admin/profile/passkeys/{passkey}/delete",
        (LOGIN, 302, 404, 404, 404),
        data={"password": "password123"},
        note="one's own passkeys only",
    ),  # fmt: skip
    Ask(
        "/password/forgot",
        "GET",
        "/password/forgot",
        (404,) * 5,
        note="no [mail] host here: the site sends no email",
    ),  # fmt: skip
    Ask("/password/forgot", "POST", "/password/forgot", (404,) * 5, data={"username": "x"}),
    Ask("/setup", "GET", "/setup", (404,) * 5, note="gone once an account exists"),
    Ask("/setup", "POST", "/setup", (404,) * 5),
    Ask("/password/<token>", "GET", "/password/{password_token}", ALL_200),
    Ask(
        "/password/<token>",
        "POST",
        "/password/{password_token}",
        (302,) * 5,
        data={"password": "a new long passphrase", "confirm": "a new long passphrase"},
    ),
    # The admin: posts.
    Ask("/admin/", "GET", "/admin/", LOGGED_IN),
    Ask("/admin/posts/new", "GET", "/admin/posts/new", LOGGED_IN),
    Ask(
        "/admin/posts/new",
        "POST",
        "/admin/posts/new",
        (LOGIN, 302, 302, 302, 302),
        data={"title": "New", "body": "Words", "status": "draft", "save_draft": "1"},
    ),
    Ask("/admin/posts/<int:post_id>/edit", "GET", "/admin/posts/{draft}/edit", OWNER_AND_EDITORS),
    Ask(
        "/admin/posts/<int:post_id>/edit",
        "POST",
        "/admin/posts/{draft}/edit",
        (LOGIN, 302, 403, 302, 302),
        data={"title": "Edited", "body": "Words", "status": "draft", "save_draft": "1"},
    ),
    Ask(
        "/admin/posts/<int:post_id>/delete", "GET", "/admin/posts/{draft}/delete", OWNER_AND_EDITORS
    ),
    Ask(
        "/admin/posts/<int:post_id>/delete",
        "POST",
        "/admin/posts/{draft}/delete",
        (LOGIN, 302, 403, 302, 302),
        data={"submit": "Delete"},
    ),
    Ask("/admin/preview", "POST", "/admin/preview", LOGGED_IN, data={"body": "*hi*"}),
    Ask(
        "/admin/posts/preview-page",
        "POST",
        "/admin/posts/preview-page",
        LOGGED_IN,
        data={"title": "T", "body": "B"},
    ),
    Ask(
        "/admin/posts/<int:post_id>/preview-page",
        "POST",
        "/admin/posts/{draft}/preview-page",
        OWNER_AND_EDITORS,
        data={"title": "T", "body": "B"},
    ),
    Ask(
        "/admin/posts/autosave",
        "POST",
        "/admin/posts/autosave",
        LOGGED_IN,
        data={"title": "Typed", "body": "Words"},
    ),
    Ask(
        "/admin/posts/<int:post_id>/autosave",
        "POST",
        "/admin/posts/{draft}/autosave",
        OWNER_AND_EDITORS,
        data={"title": "Typed", "body": "Words"},
    ),
    Ask(
        "/admin/posts/<int:post_id>/autosave/discard",
        "POST",
        "/admin/posts/{draft}/autosave/discard",
        (LOGIN, 302, 403, 302, 302),
    ),
    Ask(
        "/admin/posts/<int:post_id>/revisions/",
        "GET",
        "/admin/posts/{draft}/revisions/",
        OWNER_AND_EDITORS,
    ),
    Ask(
        "/admin/posts/<int:post_id>/revisions/<int:revision_id>/restore",
        "POST",
        "/admin/posts/{draft}/revisions/{revision}/restore",
        (LOGIN, 302, 403, 302, 302),
    ),
    Ask(
        "/admin/posts/<int:post_id>/revisions/<int:revision_id>/restore",
        "POST",
        "/admin/posts/{draft}/revisions/{autosave}/restore",
        (LOGIN, 302, 403, 404, 404),
        note="an autosave is its author's alone",
    ),
    Ask(
        "/admin/posts/<int:post_id>/share",
        "POST",
        "/admin/posts/{draft}/share",
        OWNER_AND_EDITORS,
        data={"days": "7"},
    ),
    Ask(
        "/admin/posts/<int:post_id>/share/withdraw",
        "POST",
        "/admin/posts/{draft}/share/withdraw",
        (LOGIN, 302, 403, 302, 302),
    ),
    # The admin: media.
    Ask("/admin/media/", "GET", "/admin/media/", LOGGED_IN),
    Ask("/admin/media/", "POST", "/admin/media/", (LOGIN, 302, 302, 302, 302), files=upload),
    Ask(
        "/admin/media/upload",
        "POST",
        "/admin/media/upload",
        (LOGIN, 201, 201, 201, 201),
        files=upload,
    ),
    Ask(
        "/admin/media/<int:attachment_id>/delete",
        "POST",
        "/admin/media/{attachment}/delete",
        (LOGIN, 302, 403, 302, 302),
    ),
    # The admin: comments.
    Ask(
        "/admin/comments",
        "GET",
        "/admin/comments",
        LOGGED_IN,
        note="each sees the comments they may moderate",
    ),
    Ask(
        "/admin/comments/<int:comment_id>/<action>",
        "POST",
        "/admin/comments/{comment}/approve",
        (LOGIN, 302, 404, 302, 302),
        note="another author's comments are not there for them",
    ),
    Ask(
        "/admin/comments/bulk",
        "POST",
        "/admin/comments/bulk",
        (LOGIN, 302, 302, 302, 302),
        data={"ids": "{comment}", "action": "approve"},
        note="another author's ids are left alone (see the test below)",
    ),
    Ask(
        "/comments/<int:post_id>/close",
        "POST",
        "/comments/{published}/close",
        (LOGIN, 302, 403, 302, 302),
    ),
    # The admin: the site.
    Ask("/admin/categories/", "GET", "/admin/categories/", EDITORS),
    Ask(
        "/admin/categories/",
        "POST",
        "/admin/categories/",
        (LOGIN, 403, 403, 302, 302),
        data={"name": "Fresh {n}", "parent": "0"},
    ),
    Ask(
        "/admin/categories/add",
        "POST",
        "/admin/categories/add",
        (LOGIN, 403, 403, 201, 201),
        data={"name": "From the editor {n}"},
        note="the editor's Add category: the editors', who manage categories",
    ),
    Ask("/admin/categories/<int:category_id>/", "GET", "/admin/categories/{category}/", EDITORS),
    Ask(
        "/admin/categories/<int:category_id>/",
        "POST",
        "/admin/categories/{category}/",
        (LOGIN, 403, 403, 302, 302),
        data={"name": "Renamed {n}", "parent": "0"},
    ),
    Ask(
        "/admin/categories/<int:category_id>/delete",
        "POST",
        "/admin/categories/{category}/delete",
        (LOGIN, 403, 403, 302, 302),
    ),
    Ask("/admin/settings", "GET", "/admin/settings", ADMIN_ONLY),
    Ask(
        "/admin/settings",
        "POST",
        "/admin/settings",
        (LOGIN, 403, 403, 403, 302),
        data={
            "title": "Site",
            "url": "http://blog.test",
            "posts_per_page": "10",
            "language": "en",
            "timezone": "UTC",
        },
    ),  # fmt: skip
    Ask("/admin/menu", "GET", "/admin/menu", ADMIN_ONLY),
    Ask(
        "/admin/menu",
        "POST",
        "/admin/menu",
        (LOGIN, 403, 403, 403, 302),
        data={"target": "", "url": "/about/", "label": "About"},
    ),
    Ask(
        "/admin/menu/<int:item_id>",
        "POST",
        "/admin/menu/{menu_item}",
        (LOGIN, 403, 403, 403, 302),
        data={"action": "rename", "label": "Renamed"},
    ),
    Ask("/admin/import-export", "GET", "/admin/import-export", ADMIN_ONLY),
    Ask(
        "/admin/import-export",
        "POST",
        "/admin/import-export",
        (LOGIN, 403, 403, 403, 200),
        files=lambda: {"file": (io.BytesIO(WXR_WITH_ONE_POST.encode()), "site.xml")},
    ),
    Ask("/admin/export/wordpress.xml", "POST", "/admin/export/wordpress.xml", ADMIN_ONLY),
    Ask("/admin/security", "GET", "/admin/security", ADMIN_ONLY),
    Ask("/admin/jobs", "GET", "/admin/jobs", ADMIN_ONLY),
    # No job has failed here (tests/test_jobs.py retries and deletes real ones).
    Ask("/admin/jobs/<job_id>/retry", "POST", "/admin/jobs/1/retry", (LOGIN, 403, 403, 403, 404)),
    Ask("/admin/jobs/<job_id>/delete", "POST", "/admin/jobs/1/delete", (LOGIN, 403, 403, 403, 404)),
    Ask("/admin/security", "GET", "/admin/security?event=nonsense", (LOGIN, 403, 403, 403, 404)),
    # The admin: people.
    Ask("/admin/profile", "GET", "/admin/profile", LOGGED_IN),
    Ask(
        "/admin/profile",
        "POST",
        "/admin/profile",
        (LOGIN, 302, 302, 302, 302),
        data={
            "display_name": "Me",
            "email": "me{n}-{role}@example.com",
            "current_password": "password123",
        },
    ),
    Ask("/admin/profile/sessions", "POST", "/admin/profile/sessions", (LOGIN, 302, 302, 302, 302)),
    Ask("/admin/users/", "GET", "/admin/users/", ADMIN_ONLY),
    Ask("/admin/users/new", "GET", "/admin/users/new", ADMIN_ONLY),
    Ask(
        "/admin/users/new",
        "POST",
        "/admin/users/new",
        (LOGIN, 403, 403, 403, 302),
        data={
            "username": "new{n}",
            "email": "new{n}@example.com",
            "role": "author",
            "password": "a new long passphrase",
        },
    ),  # fmt: skip
    Ask("/admin/users/<int:user_id>/", "GET", "/admin/users/{owner}/", ADMIN_ONLY),
    Ask(
        "/admin/users/<int:user_id>/",
        "POST",
        "/admin/users/{owner}/",
        (LOGIN, 403, 403, 403, 302),
        data={"username": "owner{n}", "email": "owner{n}@example.com", "role": "editor"},
    ),
    Ask(
        "/admin/users/<int:user_id>/active",
        "POST",
        "/admin/users/{owner}/active",
        (LOGIN, 403, 403, 403, 302),
    ),
    Ask(
        "/admin/users/<int:user_id>/password-link",
        "POST",
        "/admin/users/{owner}/password-link",
        ADMIN_ONLY,
    ),
    Ask(
        "/admin/users/<int:user_id>/sessions",
        "POST",
        "/admin/users/{owner}/sessions",
        (LOGIN, 403, 403, 403, 302),
    ),
]


class Writes:
    """Counts INSERT, UPDATE and DELETE statements sent to the site's database."""

    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.statements.append(statement)


def ask(app, world: World, role: str, case: Ask, csrf_token=True, cross_site=False):
    """Send `case` as `role`; the response and the writes it made."""
    client = app.test_client()
    if role != "visitor":
        with client.session_transaction() as session:
            session["_user_id"] = world.sessions[role]
            session["_fresh"] = True
    path = world.fill(case.path)
    kwargs = {}
    if case.method == "POST":
        data = {key: world.fill(value, role) for key, value in (case.data or {}).items()}
        if case.files:
            data.update(case.files())
        if csrf_token and app.config["WTF_CSRF_ENABLED"]:
            data["csrf_token"] = csrf_token_of(client, role)
        kwargs["data"] = data
        if cross_site:
            kwargs["headers"] = {
                "Origin": "https://elsewhere.example",
                "Sec-Fetch-Site": "cross-site",
            }
    writes = Writes()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", writes)
    try:
        response = client.open(path, method=case.method, **kwargs)
        response.get_data()
        response.close()  # a file the answer streamed
    finally:
        event.remove(engine, "before_cursor_execute", writes)
    return response, writes.statements


def csrf_token_of(client, role: str) -> str:
    """The token a form of the site carries for this person's session."""
    form_page = client.get("/admin/profile" if role != "visitor" else "/login")
    return re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', form_page.text).group(1)


def answer_of(response) -> int | str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and location.startswith("/login?next="):
        return LOGIN
    return response.status_code


def case_id(case: Ask) -> str:
    return f"{case.method} {case.path}"


@pytest.fixture
def site(make_app, request):
    """The site with every plugin; comments go up at once, without moderation or limit."""
    marker = request.node.get_closest_marker("config")
    comments = {"min_seconds": 0, "moderation": "none", "rate_limit": "1000/minute"}
    app = make_app(PLUGINS, config=marker and marker.kwargs, comments=comments)
    own_files = Path(app.instance_path, "static")  # the owner's own files, served at /site/
    own_files.mkdir(parents=True, exist_ok=True)
    (own_files / "custom.css").write_text("body { color: black }")
    return app


@pytest.mark.parametrize("case", TABLE, ids=case_id)
def test_each_person_gets_the_answer_the_table_says(site, case):
    answers, expected = {}, {}
    for role in (*PEOPLE, "contributor"):  # a contributor, asking for the owner's things
        with site.test_request_context():
            world = make_world()
        response, writes = ask(site, world, role, case)
        answers[role], expected[role] = answer_of(response), case.answer_for(role)
        if case.method == "GET" or answers[role] in (LOGIN, 403, 404):
            assert writes == [], f"{role}: {case_id(case)} answered {answers[role]} but wrote"
    assert answers == expected


def test_every_route_is_in_the_table(site):
    asked = {(case.rule, case.method) for case in TABLE}
    routes = {
        (rule.rule, method)
        for rule in site.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - asked == set(), "routes nobody asked: add them to TABLE"
    assert asked - routes == set(), "TABLE names routes the app does not have"


POSTS = [case for case in TABLE if case.method == "POST"]


@pytest.mark.parametrize("case", POSTS, ids=case_id)
@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_every_post_needs_the_csrf_token(site, case):
    """Without the session's token a POST is refused (400) and writes nothing, for
    visitors and admins, forms and fetch() endpoints alike; with it, the admin gets the
    table's answer. The comment form of a cacheable page carries no token for visitors:
    it is checked by where it comes from instead (a form from another site gets 403)."""
    public_form = case.rule == "/comments/<int:post_id>/"
    for role in ("visitor", "admin"):
        with site.test_request_context():
            world = make_world()
        response, writes = ask(site, world, role, case, csrf_token=False)
        if role == "visitor" and public_form:
            assert response.status_code == case.answers[0]
            response, writes = ask(site, world, role, case, cross_site=True)
            assert response.status_code == 403
        else:
            assert response.status_code == 400, f"{role} posted without the token"
        assert writes == []
    with site.test_request_context():
        world = make_world()
    response, _ = ask(site, world, "admin", case)
    assert answer_of(response) == case.answers[PEOPLE.index("admin")]


def test_another_authors_comments_are_out_of_reach(site):
    """The queue and the bulk form answer another author, but only about their own posts."""
    with site.test_request_context():
        world = make_world()
    queue = Ask("/admin/comments", "GET", "/admin/comments", LOGGED_IN)
    bulk = next(case for case in TABLE if case.rule == "/admin/comments/bulk")
    response, _ = ask(site, world, "other", queue)
    assert "Reader" not in response.text
    response, writes = ask(site, world, "other", bulk)
    assert writes == []
    response, _ = ask(site, world, "owner", queue)
    assert "Reader" in response.text
    with site.app_context():
        assert db.session.get(Comment, world.ids["comment"]).status == "pending"
