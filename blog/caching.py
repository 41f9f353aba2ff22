"""What browsers and shared caches may keep, and how the site tells them it changed.

A page an anonymous reader gets (no session: not logged in, nothing awaiting them) is the
same for every reader, so it is public: it carries an ETag (a hash of its bytes), a
Last-Modified (the site's last change, see below) and PUBLIC_PAGES, and a reader who
already has it gets 304. Pages for logged-in users and other session holders are
private and checked again at every view. Static files carry a fingerprint of their
bytes in their address (?v=…) and may be kept for a year.

The site's last change: every write that readers can see calls site_changed() inside
its transaction (blog/editing.py for posts, blog/accounts.py for names, the settings
and category pages, plugins through blog.plugin_api for comments), naming the pages it
changes by their tags (blog/page_cache.py: "post:7", "lists", "nav"; none: every page).
When the transaction commits, the page cache forgets those pages and the time is stored:
in Redis when REDIS_URL is set, so that every worker and host agrees, else in a file of
the instance folder, which every worker on the machine reads. A rolled-back change
leaves no mark. A Last-Modified that moves with any change is coarse, but never claims
a changed page is unchanged.
"""

import hashlib
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import redis
from flask import Flask, current_app, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from blog import page_cache
from blog.database import db
from blog.throttle import key_prefix

# Browsers and shared caches keep a public page a minute, then may show it for five
# more while they ask whether it changed (a 304, or the new page, in the background).
PUBLIC_PAGES = "public, max-age=60, stale-while-revalidate=300"
PRIVATE_PAGES = "private, no-cache"
YEAR = 365 * 24 * 3600
CHANGED_FILE = "site-changed"  # in the instance folder: its modification time
STATIC_ENDPOINTS = ("static", "site_static")  # and every blueprint's "<name>.static"
_PENDING = "pressroom.site_changed"  # session.info key: (app, tags or None for all)
T = TypeVar("T")


def site_changed(*tags: str) -> None:
    """Note that readers will see something new once this transaction commits: on the
    pages carrying these tags (blog/page_cache.py), or on every page if none is named."""
    app, changed = db.session.info.get(_PENDING, (current_app._get_current_object(), set()))
    if changed is not None:
        changed = changed | set(tags) if tags else None
    db.session.info[_PENDING] = (app, changed)


def site_changed_now() -> None:
    """Note a change that is not in the database (the settings in config.toml): at once."""
    app = current_app._get_current_object()
    store_change_time(app, time.time())
    page_cache.forget(app, None)


@event.listens_for(Session, "after_commit")
def _store_change(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        app, tags = pending
        # The time first: a page rendered from a value kept until_site_changes() under
        # the old time began before the forgetting below, so the cache refuses to store it.
        store_change_time(app, time.time())
        page_cache.forget(app, tags)  # before the writer hears "saved"


@event.listens_for(Session, "after_rollback")
def _forget_change(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _redis(app: Flask) -> "redis.Redis | None":
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    client = app.extensions.get("pressroom.caching.redis")
    if client is None:
        client = app.extensions["pressroom.caching.redis"] = redis.Redis.from_url(url)
    return client


def _redis_key(app: Flask) -> str:
    return f"{key_prefix(app)}:site-changed"


def store_change_time(app: Flask, moment: float) -> None:
    client = _redis(app)
    if client is not None:
        client.set(_redis_key(app), repr(moment))
        return
    path = Path(app.instance_path, CHANGED_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (moment, moment))


def site_changed_at(app: Flask | None = None) -> datetime:
    """When readers last had something new to see (at the latest, when this app started)."""
    app = app or current_app._get_current_object()
    started = app.extensions["pressroom.caching.started"]
    client = _redis(app)
    if client is not None:
        stored = client.get(_redis_key(app))
        changed = float(stored) if stored else 0.0
    else:
        try:
            changed = Path(app.instance_path, CHANGED_FILE).stat().st_mtime
        except OSError:
            changed = 0.0
    return datetime.fromtimestamp(max(started, changed), UTC)


def until_site_changes(key: tuple, compute: Callable[[], T]) -> T:
    """compute(), kept in this process until the site's next change (site_changed_at).

    For what only a write can change and is dear to work out at every view: the admin's
    counts of posts by status read every row. The time is read before computing, so a
    value computed while a write commits is kept under the time before it, and never
    read again. Between a commit and the new time being stored (the same function, a
    moment later) another worker may still read the value kept before it.
    """
    app = current_app._get_current_object()
    kept = app.extensions.setdefault("pressroom.caching.kept", {})
    changed = site_changed_at(app)
    if key in kept and kept[key][0] == changed:
        return kept[key][1]
    value = compute()
    kept[key] = (changed, value)
    return value


def is_public_request() -> bool:
    """The same page for every reader: nobody logged in, nothing kept for this browser."""
    return not session and not current_user.is_authenticated


def add_cache_headers(response):
    """Validators and a lifetime for every successful GET; 304 for a reader who has it."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if request.endpoint and request.endpoint.rpartition(".")[2] in STATIC_ENDPOINTS:
        return static_lifetime(response)
    if "Cache-Control" in response.headers or response.is_streamed:
        return response  # the view decided (uploads, previews, share links, the import log)
    response.vary.add("Cookie")
    if not is_public_request() or page_cache.made_for_this_reader():
        response.headers["Cache-Control"] = PRIVATE_PAGES
        return response
    response.headers["Cache-Control"] = PUBLIC_PAGES
    page_cache.mark_public(response)
    if not response.get_etag()[0]:
        # Of the page without its fresh values (the comment form's time), so that it
        # is the same at every view.
        response.set_etag(page_cache.page_etag(response.get_data()))
    if response.last_modified is None:
        response.last_modified = site_changed_at()
    return response.make_conditional(request)


_fingerprints: dict[tuple[str, float], str] = {}


def fingerprint(path: Path) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (cached while it is unchanged)."""
    try:
        changed = path.stat().st_mtime
    except OSError:
        return None
    key = (str(path), changed)
    if key not in _fingerprints:
        _fingerprints[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _fingerprints[key]


def static_file(endpoint: str, filename: str) -> Path | None:
    """The file a static endpoint serves, or None."""
    app = current_app
    if endpoint == "site_static":
        return Path(app.instance_path, "static", filename)
    blueprint = app.blueprints.get(endpoint.rpartition(".")[0]) if "." in endpoint else app
    folder = blueprint.static_folder if blueprint is not None else None
    return Path(folder, filename) if folder else None


def add_fingerprint(endpoint: str, values: dict) -> None:
    """url_for("static", filename=…) gets ?v=<fingerprint>, so a changed file gets a new
    address and the old one may be kept for a year."""
    if endpoint.rpartition(".")[2] not in STATIC_ENDPOINTS or "v" in values:
        return
    path = static_file(endpoint, values.get("filename", ""))
    stamp = fingerprint(path) if path is not None else None
    if stamp:
        values["v"] = stamp


def static_lifetime(response):
    """A year for a fingerprinted address whose fingerprint is the file's; else revalidate."""
    path = static_file(request.endpoint, (request.view_args or {}).get("filename", ""))
    stamp = request.args.get("v")
    if stamp and path is not None and stamp == fingerprint(path):
        response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    else:
        response.headers["Cache-Control"] = "public, no-cache"
    return response


def init_app(app: Flask) -> None:
    app.extensions["pressroom.caching.started"] = time.time()  # config, plugins, theme
    app.url_defaults(add_fingerprint)
    app.after_request(add_cache_headers)
