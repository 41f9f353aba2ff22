"""The page cache: anonymous readers get stored pages, with no view and no SQL.

Every public page (blog/caching.py decides: nobody logged in, nothing kept for this
browser) is stored once rendered, with tags naming what it shows:

- ``post:<id>`` for every post the page loaded (an ORM load event adds them, so a list,
  a related-posts box or a feed cannot forget one);
- ``lists``: which posts exist and where they are listed (home, categories, tags,
  authors, archives, feeds, the sitemap), on every page but a post's own page, whose
  view calls shows_only_loaded_posts(); a plugin fragment that lists posts by query
  (a category's newest) calls page_shows(LISTS);
- ``nav``: the navigation, on every page.

A write names the tags it changes with site_changed(*tags) inside its transaction
(blog/caching.py); when the transaction commits, every page carrying one of them is
deleted from the store before the writer's response goes out, in every worker and
host at once because they share the store. site_changed() with no tag empties it.

A page rendered while a write commits must not be stored stale: the epoch (a counter
every invalidation raises, atomically with its deletions) is read before the view
runs, and the page is stored only if it has not moved (atomically with the store).

Which requests: GET and HEAD without a query, or whose query the view read entirely
(?page=2; ?utm_source=… and other trackers are left out of the key). A stored page
remembers the cookies its rendering asked for (the session, the remember-me cookie, a
plugin's own): a request carrying one of them is rendered for its reader instead.
A value that must be fresh at each view (the comment form's signed time) is made by
fresh_value(): the store keeps a hole there and fills it anew at every hit.

Stores: Redis when REDIS_URL is set (every worker and host), else a SQLite file in the
instance folder that every worker on the machine shares. Off with `[cache] pages =
false`; `flask --app app cache clear` empties it.
"""

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import click
import redis
from flask import Flask, current_app, has_request_context, request
from flask.cli import with_appcontext
from flask.wrappers import Request
from sqlalchemy import event
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.http import is_resource_modified
from werkzeug.utils import cached_property

from blog.models import Post
from blog.theme import SITE_STYLESHEET
from blog.throttle import key_prefix

LISTS = "lists"
NAV = "nav"
LOCAL_FILE = "page-cache.sqlite3"  # in the instance folder
MAX_LOCAL_PAGES = 20_000  # the local store forgets its oldest pages past this
REDIS_SECONDS = 24 * 3600  # Redis forgets a page unread for a day (memory, not freshness)
MANY_TAGS = 1000  # an import names thousands of posts: emptying the store is cheaper
# Query arguments that only tell analytics where a reader came from: not part of the key.
TRACKERS = frozenset("fbclid gclid dclid msclkid mc_cid mc_eid ref igshid".split())
HIT_HEADER = "X-Page-Cache"
# What a 304 repeats of the page's headers (RFC 9110, 15.4.5).
NOT_MODIFIED_HEADERS = frozenset(
    ("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Vary", "Last-Modified",
     HIT_HEADER)
)  # fmt: skip
ENVIRON = "pressroom.page_cache"  # environ key: the Pending of a request that may be stored


def post_pages(post_id: int) -> str:
    return f"post:{post_id}"


def is_tracker(name: str) -> bool:
    return name.startswith("utm_") or name in TRACKERS


# During a request: what the page shows ---------------------------------------------------


@dataclass
class Pending:
    """A miss that may be stored: its key, the epoch before the view ran, what it showed."""

    key: str
    epoch: int
    query: list[tuple[str, str]]
    tags: set[str] = field(default_factory=lambda: {NAV, LISTS})
    fresh: list[tuple[str, str, str]] = field(default_factory=list)  # (value, maker, arg)
    leave_out: bool = False
    expires: float | None = None  # when the page changes by itself (comments close)
    public: bool = False  # blog/caching.py found it the same for every reader
    cookies_asked: set[str] = field(default_factory=set)
    args_read: set[str] = field(default_factory=set)


def pending() -> Pending | None:
    return request.environ.get(ENVIRON) if has_request_context() else None


def page_shows(*tags: str) -> None:
    """Say that this page shows what these tags name (a write will name them too)."""
    page = pending()
    if page is not None:
        page.tags.update(tags)


def shows_only_loaded_posts() -> None:
    """A post's own page: it shows the posts it loads, not lists of them."""
    page = pending()
    if page is not None:
        page.tags.discard(LISTS)


def page_changes_at(moment: float) -> None:
    """Say that this page will change by itself at `moment` (a Unix time): it is kept
    until then only. (Comments that close some days after a post is published.)"""
    page = pending()
    if page is not None:
        page.expires = moment if page.expires is None else min(page.expires, moment)


def leave_out() -> None:
    """Never store this page (a search: every query its own page, each changed by any post)."""
    page = pending()
    if page is not None:
        page.leave_out = True


@event.listens_for(Post, "load")
def _post_loaded(post: Post, context) -> None:
    page = pending()
    if page is not None:
        page.tags.add(post_pages(post.id))


_fresh_makers: dict[str, Callable[[Flask, str], str]] = {}


def fresh_maker(name: str):
    """Register a function (app, arg) -> value whose value must be made anew at every view
    (on a hit there is no app context: it is given the app)."""

    def register(function: Callable[[Flask, str], str]) -> Callable[[Flask, str], str]:
        _fresh_makers[name] = function
        return function

    return register


def fresh_value(name: str, arg: str) -> str:
    """The maker's value now; a stored page gets a new one at every hit."""
    value = _fresh_makers[name](current_app._get_current_object(), arg)
    page = pending()
    if page is not None:
        page.fresh.append((value, name, arg))
    return value


class RecordingDict(ImmutableMultiDict):
    """Cookies or query arguments that note which names the app asked for."""

    asked: set[str]

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        self.asked.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        self.asked.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def recording(values, asked: set[str]) -> RecordingDict:
    recorded = RecordingDict(values)
    recorded.asked = asked
    return recorded


class PageRequest(Request):
    """A request whose page, if stored, must know which cookies and arguments it read."""

    @cached_property
    def cookies_asked(self) -> set[str]:
        page = self.environ.get(ENVIRON)
        return page.cookies_asked if page is not None else set()

    @cached_property
    def cookies(self):
        return recording(super().cookies, self.cookies_asked)

    @cached_property
    def args(self):
        page = self.environ.get(ENVIRON)
        values = super().args
        return values if page is None else recording(values, page.args_read)


# Stored pages ---------------------------------------------------------------------------


HOLE = b"\0hole\0"  # where a fresh value goes, in the bytes an ETag is made of


def stable_body(body: bytes, fresh: list[tuple[str, str, str]]) -> bytes:
    """The page with its fresh values as holes: the same bytes for every reader and view."""
    for value, _, _ in fresh:
        body = body.replace(value.encode(), HOLE, 1)
    return body


def page_etag(body: bytes) -> str:
    page = pending()
    stable = stable_body(body, page.fresh if page else [])
    return hashlib.blake2b(stable, digest_size=16).hexdigest()


@dataclass
class StoredPage:
    status: str
    headers: list[tuple[str, str]]
    body: bytes  # without its fresh values
    holes: list[tuple[str, str, int]]  # (maker, arg, where in body), in order
    cookies: list[str]  # the cookies its rendering asked for

    @classmethod
    def of(cls, status, headers, content: bytes, fresh, cookies) -> "StoredPage":
        parts, holes, start = [], [], 0
        for value, maker, arg in fresh:
            found = content.find(value.encode(), start)
            if found < 0:
                continue
            parts.append(content[start:found])
            holes.append((maker, arg, sum(map(len, parts))))
            start = found + len(value.encode())
        parts.append(content[start:])
        kept = [
            (n, v) for n, v in headers if n.lower() not in ("content-length", HIT_HEADER.lower())
        ]
        return cls(status, kept, b"".join(parts), holes, sorted(cookies))

    def encode(self) -> bytes:
        meta = {"status": self.status, "headers": self.headers, "holes": self.holes,
                "cookies": self.cookies}  # fmt: skip
        return json.dumps(meta).encode() + b"\0" + self.body

    @classmethod
    def decode(cls, data: bytes) -> "StoredPage":
        meta, body = data.split(b"\0", 1)
        fields = json.loads(meta)
        return cls(fields["status"], [tuple(h) for h in fields["headers"]], body,
                   fields["holes"], fields["cookies"])  # fmt: skip

    def validators(self) -> tuple[str | None, None, str | None]:
        """(ETag, data, Last-Modified), as werkzeug's is_resource_modified takes them."""
        headers = dict(self.headers)
        return headers.get("ETag"), None, headers.get("Last-Modified")

    def filled(self, app: Flask) -> bytes:
        if not self.holes:
            return self.body
        parts, start = [], 0
        for maker, arg, offset in self.holes:
            parts += [self.body[start:offset], _fresh_makers[maker](app, arg).encode()]
            start = offset
        parts.append(self.body[start:])
        return b"".join(parts)


class RedisStore:
    """Pages in Redis, shared by every worker and host; each tag a set of page keys."""

    STORE = """
    if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
    redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
    for i = 3, #KEYS do
      redis.call('SADD', KEYS[i], KEYS[2])
      redis.call('EXPIRE', KEYS[i], ARGV[3])
    end
    return 1
    """
    FORGET = """
    redis.call('INCR', KEYS[1])
    for i = 2, #KEYS do
      local pages = redis.call('SMEMBERS', KEYS[i])
      for j = 1, #pages, 500 do
        redis.call('DEL', unpack(pages, j, math.min(j + 499, #pages)))
      end
      redis.call('DEL', KEYS[i])
    end
    return 1
    """

    def __init__(self, url: str, prefix: str):
        self.client = redis.Redis.from_url(url)
        self.prefix = f"{prefix}:pages"
        self.epoch_key = f"{self.prefix}:epoch"
        self.store_script = self.client.register_script(self.STORE)
        self.forget_script = self.client.register_script(self.FORGET)

    def page_key(self, key: str) -> str:
        return f"{self.prefix}:page:{key}"

    def tag_key(self, tag: str) -> str:
        return f"{self.prefix}:tag:{tag}"

    def lookup(self, key: str) -> tuple[bytes | None, int]:
        data, epoch = self.client.mget(self.page_key(key), self.epoch_key)
        return data, int(epoch or 0)

    def store(self, key: str, data: bytes, tags: Iterable[str], epoch: int, expires) -> bool:
        keys = [self.epoch_key, self.page_key(key), *map(self.tag_key, sorted(tags))]
        seconds = REDIS_SECONDS if expires is None else int(expires - time.time())
        if seconds < 1:
            return False
        args = [epoch, data, REDIS_SECONDS, min(seconds, REDIS_SECONDS)]
        return bool(self.store_script(keys=keys, args=args))

    def forget(self, tags: Iterable[str]) -> None:
        self.forget_script(keys=[self.epoch_key, *map(self.tag_key, sorted(tags))])

    def clear(self) -> None:
        self.client.incr(self.epoch_key)  # first: a page rendered before now is refused
        for pattern in (f"{self.prefix}:page:*", f"{self.prefix}:tag:*"):
            batch = []
            for name in self.client.scan_iter(match=pattern, count=1000):
                batch.append(name)
                if len(batch) == 1000:
                    self.client.delete(*batch)
                    batch = []
            if batch:
                self.client.delete(*batch)

    def count(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match=f"{self.prefix}:page:*", count=1000))


class LocalStore:
    """Pages in a SQLite file that every worker on the machine opens (WAL: readers never
    wait). A write takes the file's lock, so a store and an invalidation never interleave."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS page (key TEXT PRIMARY KEY, data BLOB NOT NULL,
                                     stored REAL NOT NULL, expires REAL);
    CREATE INDEX IF NOT EXISTS page_stored ON page (stored);
    CREATE TABLE IF NOT EXISTS page_tag (tag TEXT NOT NULL, key TEXT NOT NULL,
                                         PRIMARY KEY (tag, key)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS page_tag_key ON page_tag (key);
    CREATE TABLE IF NOT EXISTS epoch (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER);
    INSERT OR IGNORE INTO epoch VALUES (1, 0);
    """

    def __init__(self, path: Path, max_pages: int = MAX_LOCAL_PAGES):
        self.path = path
        self.max_pages = max_pages
        self.local = threading.local()  # one connection a thread (and a process: see below)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None or self.local.pid != os.getpid():  # a forked worker opens its own
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # a cache: a lost page is re-rendered
            conn.executescript(self.SCHEMA)
            self.local.conn, self.local.pid = conn, os.getpid()
        return conn

    def lookup(self, key: str) -> tuple[bytes | None, int]:
        row = (
            self.connection()
            .execute(
                "SELECT (SELECT data FROM page WHERE key = ? AND coalesce(expires > ?, 1)),"
                " (SELECT value FROM epoch)",
                (key, time.time()),
            )
            .fetchone()
        )
        return row[0], row[1]

    def store(self, key: str, data: bytes, tags: Iterable[str], epoch: int, expires) -> bool:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT value FROM epoch").fetchone()[0] != epoch:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO page VALUES (?, ?, ?, ?)", (key, data, time.time(), expires)
            )
            conn.executemany(
                "INSERT OR IGNORE INTO page_tag VALUES (?, ?)", [(tag, key) for tag in tags]
            )
            (count,) = conn.execute("SELECT count(*) FROM page").fetchone()
            if count > self.max_pages:
                oldest = conn.execute(
                    "SELECT key FROM page ORDER BY stored LIMIT ?", (count // 10 or 1,)
                ).fetchall()
                self._delete(conn, [k for (k,) in oldest])
            return True
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _delete(conn: sqlite3.Connection, keys: list[str]) -> None:
        listed = json.dumps(keys)
        conn.execute("DELETE FROM page WHERE key IN (SELECT value FROM json_each(?))", (listed,))
        conn.execute(
            "DELETE FROM page_tag WHERE key IN (SELECT value FROM json_each(?))", (listed,)
        )

    def forget(self, tags: Iterable[str]) -> None:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE epoch SET value = value + 1")
            keys = conn.execute(
                "SELECT DISTINCT key FROM page_tag WHERE tag IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(tags)),),
            ).fetchall()
            self._delete(conn, [key for (key,) in keys])
        finally:
            conn.execute("COMMIT")

    def clear(self) -> None:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE epoch SET value = value + 1")
            conn.execute("DELETE FROM page")
            conn.execute("DELETE FROM page_tag")
        finally:
            conn.execute("COMMIT")

    def count(self) -> int:
        return self.connection().execute("SELECT count(*) FROM page").fetchone()[0]


def make_store(app: Flask) -> "RedisStore | LocalStore":
    if app.config.get("REDIS_URL"):
        return RedisStore(app.config["REDIS_URL"], key_prefix(app))
    cache = app.config.get("CACHE", {})
    return LocalStore(Path(app.instance_path, LOCAL_FILE), cache.get("max_pages", MAX_LOCAL_PAGES))


def store_of(app: Flask) -> "RedisStore | LocalStore | None":
    return app.extensions.get("pressroom.page_cache")


def forget(app: Flask, tags: set[str] | None) -> None:
    """Delete every stored page showing one of `tags` (None: every page), in every worker."""
    store = store_of(app)
    if store is None:
        return
    if tags is None or len(tags) > MANY_TAGS:
        store.clear()
    elif tags:
        store.forget(tags)


# In front of the app -------------------------------------------------------------------


def site_version(app: Flask) -> str:
    """What every page depends on but the database does not hold: the code's plugins and
    settings, and the site's own templates and files. Part of every key, so a restart with
    another theme or plugin list never serves a page of the old one."""
    digest = hashlib.sha256()
    digest.update(repr(sorted(app.config["PLUGINS"].get("enabled", []))).encode())
    digest.update(repr(sorted(app.config["SITE"].items())).encode())
    for folder in ("templates", "static"):
        root = Path(app.instance_path, folder)
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    stat = path.stat()
                    digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:12]


def mtime(path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def cookie_names(environ) -> set[str]:
    return {part.split("=", 1)[0].strip() for part in environ.get("HTTP_COOKIE", "").split(";")}


class PageCache:
    """WSGI middleware: answers hits before Flask is reached, stores what Flask marks."""

    def __init__(self, app: Flask, store):
        self.app = app
        self.store = store
        self.wsgi_app = app.wsgi_app
        self.version = site_version(app)
        self.stylesheet = Path(app.instance_path, "static", SITE_STYLESHEET)
        self.stylesheet_mtime = mtime(self.stylesheet)

    def key_for(self, environ) -> tuple[str, list[tuple[str, str]]] | None:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None
        query = [
            (name, value)
            for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if not is_tracker(name)
        ]
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        url = f"{environ['wsgi.url_scheme']}://{host}{path}?{urlencode(sorted(query))}"
        return f"{self.version}:{hashlib.sha256(url.encode()).hexdigest()}", query

    def settings_moved(self) -> bool:
        """config.toml changed since this worker read it (the app reloads it, and empties
        the store if the site's settings changed), or the site's stylesheet did."""
        stylesheet = mtime(self.stylesheet)
        if stylesheet != self.stylesheet_mtime:
            self.stylesheet_mtime = stylesheet
            self.store.clear()  # every page links it, by an address with its fingerprint
        path = self.app.config.get("CONFIG_PATH")
        return bool(path) and mtime(path) != self.app.config["CONFIG_MTIME"]

    def __call__(self, environ, start_response):
        found = self.key_for(environ)
        if found is None or self.settings_moved():
            return self.wsgi_app(environ, start_response)
        key, query = found
        data, epoch = self.store.lookup(key)
        if data is not None:
            page = StoredPage.decode(data)
            sent = {
                name.strip().split("=", 1)[0] for name in environ.get("HTTP_COOKIE", "").split(";")
            }
            if not sent & set(page.cookies):
                return self.serve(page, environ, start_response)
            return self.wsgi_app(environ, start_response)  # a cookie makes it this reader's
        environ[ENVIRON] = Pending(key, epoch, query)
        return self.render(environ, start_response)

    def serve(self, page: StoredPage, environ, start_response):
        """The stored page, or 304 to a reader who has it (without werkzeug's Response: a
        hit is the path that must keep up with a static file)."""
        self.app.extensions["pressroom_scheduler"].start_timer()  # due posts go out all the same
        headers = [*page.headers, (HIT_HEADER, "hit")]
        asks = "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ
        if asks and not is_resource_modified(environ, *page.validators()):
            start_response("304 NOT MODIFIED", [h for h in headers if h[0] in NOT_MODIFIED_HEADERS])
            return []
        body = page.filled(self.app)
        start_response(page.status, [*headers, ("Content-Length", str(len(body)))])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def render(self, environ, start_response):
        answer = {}

        def remember_start(status, headers, exc_info=None):
            answer["status"], answer["headers"], answer["exc_info"] = status, headers, exc_info
            return lambda data: None  # the write() callable: Flask never uses it

        body = self.wsgi_app(environ, remember_start)
        page = environ[ENVIRON]
        headers = answer["headers"]
        if self.storable(page, answer["status"], headers, environ):
            try:
                content = b"".join(body)
            finally:
                if hasattr(body, "close"):
                    body.close()
            stored = StoredPage.of(
                answer["status"], headers, content, page.fresh, page.cookies_asked
            )
            self.store.store(page.key, stored.encode(), page.tags, page.epoch, page.expires)
            headers = [*headers, (HIT_HEADER, "miss")]
            start_response(answer["status"], headers, answer["exc_info"])
            return [content]
        start_response(answer["status"], headers, answer["exc_info"])
        return body

    @staticmethod
    def storable(page: Pending, status: str, headers, environ) -> bool:
        if not page.public or page.leave_out:
            return False
        if environ["REQUEST_METHOD"] != "GET" or not status.startswith("200"):
            return False
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return False
        if cookie_names(environ) & page.cookies_asked:
            return False  # made for this reader (the comment form filled in with their name)
        return all(name in page.args_read for name, _ in page.query)


def made_for_this_reader() -> bool:
    """The page read a cookie this request carries (the comment form's remembered name):
    it is this reader's, whoever else is not logged in."""
    return bool(set(dict.keys(request.cookies)) & request.cookies_asked)


def mark_public(response) -> None:
    """blog/caching.py found the response the same for every reader: it may be stored."""
    page = pending()
    if page is not None and not response.is_streamed:
        page.public = True


def init_app(app: Flask) -> None:
    app.request_class = PageRequest
    app.cli.add_command(cache_commands)
    if app.config.get("CACHE", {}).get("pages", True):
        store = app.extensions["pressroom.page_cache"] = make_store(app)
        app.wsgi_app = PageCache(app, store)


@click.group("cache")
def cache_commands():
    """The page cache."""


@cache_commands.command("clear")
@with_appcontext
def clear():
    """Empty the page cache (after editing theme files without a restart)."""
    store = store_of(current_app._get_current_object())
    if store is None:
        raise click.ClickException("The page cache is off ([cache] pages = false).")
    store.clear()
    click.echo("The page cache is empty.")
