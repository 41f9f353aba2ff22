"""Full-text search over posts: SQLite FTS5 or PostgreSQL full-text search, one interface.

The index holds each post's title and plain text, whatever its status; a query
returns only published posts and pages (never drafts, private or unlisted ones),
best first, with the matching words marked; past CANDIDATES matches, the best of the
newest CANDIDATES, so that no query costs more than that. Saving, importing and deleting keep
the index in step (blog/editing.py, the one road for every post). Any text is a
valid query: words, "quoted phrases", OR, and -excluded words; everything else is
ignored rather than parsed.
"""

import re
from dataclasses import dataclass

from flask import current_app, has_app_context
from markupsafe import Markup, escape
from sqlalchemy import DDL, bindparam, event, text

from blog.database import db
from blog.rendering import plain_text

TABLE = "post_search"
TITLE_WEIGHT = 10.0  # SQLite bm25: a word in the title counts ten times one in the body
QUERY_MAX = 200  # characters of a query that are read
# A query ranks the newest CANDIDATES posts it matches, and counts no further ("more than
# 1,000 posts match"): a word in every post of 100,000 was ranked in all of them (1.4 s
# on PostgreSQL, at every such query). A reader after an older post adds words.
CANDIDATES = 1000
# Markers that cannot occur in post text: they are placed by the database, then the
# snippet is escaped and they become <mark> tags.
START, STOP = "\ue000", "\ue001"
# PostgreSQL's headline drops anything shaped like an HTML tag ("<script>" in a code
# sample): angle brackets travel as these and are put back, escaped, afterwards.
ANGLES = "\ue002\ue003"

# Words are found by their stem in the site's language ("running" finds "runs"). SQLite
# has Porter's English stemmer only: other languages match whole words, accents aside.
# PostgreSQL has a configuration for many languages; any other gets "simple".
POSTGRES_CONFIGS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "da": "danish",
    "nl": "dutch", "en": "english", "fi": "finnish", "fr": "french", "de": "german",
    "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "nb": "norwegian", "nn": "norwegian",
    "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


def site_language() -> str:
    """The primary subtag of [site] language: "pt" for "pt-BR"."""
    tag = current_app.config["SITE"]["language"] if has_app_context() else "en"
    return tag.split("-")[0].lower()


def sqlite_ddl(language: str = "en") -> str:
    stemmer = "porter " if language == "en" else ""
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
        f"title, body, tokenize = '{stemmer}unicode61 remove_diacritics 2')"
    )


SQLITE_DDL = sqlite_ddl()  # what create_all makes; rebuild() remakes it for the language
_postgres_has: dict[str, bool] = {}  # configurations differ between PostgreSQL versions


def postgres_config(executor=None) -> str:
    """The site language's text search configuration: a name from POSTGRES_CONFIGS."""
    name = POSTGRES_CONFIGS.get(site_language(), "simple")
    if name not in _postgres_has:
        found = (executor or db.session).execute(
            text("SELECT count(*) FROM pg_ts_config WHERE cfgname = :name"), {"name": name}
        )
        _postgres_has[name] = found.scalar_one() > 0
    return name if _postgres_has[name] else "simple"


POSTGRES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " post_id integer PRIMARY KEY REFERENCES post (id) ON DELETE CASCADE,"
    " title text NOT NULL, body text NOT NULL, document tsvector NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{TABLE}_document ON {TABLE} USING gin (document)",
)


def create_index_table(connection) -> None:
    """Make the search table for this connection's database (migrations, tests)."""
    if connection.dialect.name == "sqlite":
        connection.execute(text(SQLITE_DDL))
    else:
        for statement in POSTGRES_DDL:
            connection.execute(text(statement))


# db.create_all() (the tests) makes it too, and drop_all() removes it before `post`.
event.listen(db.metadata, "after_create", DDL(SQLITE_DDL).execute_if(dialect="sqlite"))
for _statement in POSTGRES_DDL:
    event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
event.listen(db.metadata, "before_drop", DDL(f"DROP TABLE IF EXISTS {TABLE}"))


def on_sqlite(executor=None) -> bool:
    executor = executor or db.session
    bind = executor.get_bind() if hasattr(executor, "get_bind") else executor
    return bind.dialect.name == "sqlite"


def index_post(post_id: int, title: str, body_html: str, executor=None) -> None:
    """Put the post's words in the index (or replace them), in the caller's transaction.

    `executor`: db.session by default; a migration passes its own connection.
    """
    executor = executor or db.session
    values = {"id": post_id, "title": title, "body": plain_text(body_html)}
    if on_sqlite(executor):
        executor.execute(text(f"DELETE FROM {TABLE} WHERE rowid = :id"), values)
        executor.execute(
            text(f"INSERT INTO {TABLE} (rowid, title, body) VALUES (:id, :title, :body)"), values
        )
        return
    config = postgres_config(executor)
    executor.execute(
        text(
            f"INSERT INTO {TABLE} (post_id, title, body, document) VALUES (:id, :title, :body,"
            f" setweight(to_tsvector('{config}', :title), 'A') ||"
            f" setweight(to_tsvector('{config}', :body), 'B'))"
            " ON CONFLICT (post_id) DO UPDATE SET title = excluded.title,"
            " body = excluded.body, document = excluded.document"
        ),
        values,
    )


def remove_post(post_id: int) -> None:
    column = "rowid" if on_sqlite() else "post_id"
    db.session.execute(text(f"DELETE FROM {TABLE} WHERE {column} = :id"), {"id": post_id})


def rebuild(executor=None) -> int:
    """Index every post afresh, in the site's language (a migration does it once; also
    after the language changes, or a backup is restored)."""
    executor = executor or db.session
    if on_sqlite(executor):  # the stemmer is part of the table
        executor.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        executor.execute(text(sqlite_ddl(site_language())))
    else:
        executor.execute(text(f"DELETE FROM {TABLE}"))
    count, last = 0, 0
    batch = text("SELECT id, title, body_html FROM post WHERE id > :last ORDER BY id LIMIT 500")
    while rows := executor.execute(batch, {"last": last}).all():  # 500 at a time in memory
        for post_id, title, body_html in rows:
            index_post(post_id, title, body_html, executor)
        count, last = count + len(rows), rows[-1][0]
    return count


_token = re.compile(r'-?"[^"]*"?|\S+')
_word = re.compile(r"\w+")


def fts5_query(words: str) -> str | None:
    """The reader's text as a safe FTS5 query, or None when nothing in it can match.

    Each word or "phrase" becomes a quoted FTS5 string (so FTS5's own syntax is never
    met), joined by AND unless the reader wrote OR; a leading - excludes.
    """
    wanted: list[str] = []
    excluded: list[str] = []
    for token in _token.findall(words):
        if token == "OR":  # noqa: S105 -- FTS5's operator, not a password
            if wanted and wanted[-1] != "OR":
                wanted.append("OR")
            continue
        parts = _word.findall(token)
        if not parts:
            continue
        phrase = '"' + " ".join(parts) + '"'
        (excluded if token.startswith("-") and len(token) > 1 else wanted).append(phrase)
    while wanted and wanted[-1] == "OR":
        wanted.pop()
    if not wanted:
        return None
    query = " ".join(wanted)
    return f"({query})" + "".join(f" NOT {phrase}" for phrase in excluded)


@dataclass
class Hit:
    post_id: int
    title: Markup
    snippet: Markup


@dataclass
class Results:
    query: str
    total: int  # at most CANDIDATES
    hits: list[Hit]
    more: bool = False  # more posts match than total: only the newest were ranked


def marked(fragment: str) -> Markup:
    """Database text with START/STOP markers as safe HTML with <mark> around matches."""
    html = str(escape(fragment)).replace(START, "<mark>").replace(STOP, "</mark>")
    html = html.replace(ANGLES[0], "&lt;").replace(ANGLES[1], "&gt;")
    return Markup(html)  # noqa: S704 -- escaped just now; only our own tags are added


def search(words: str, limit: int = 10, offset: int = 0) -> Results:
    """Published posts and pages matching `words`, best first."""
    words = words.replace("\x00", " ")[:QUERY_MAX].strip()
    if not words:
        return Results(words, 0, [])
    if on_sqlite():
        query = fts5_query(words)
        if query is None:
            return Results(words, 0, [])
        return run_sqlite(words, query, limit, offset)
    return run_postgres(words, limit, offset)


PUBLIC = "post.status = 'published'"


# CROSS JOIN: SQLite must read the full-text index first, not probe it once per post
# (bench/search.py: 1.8 ms against 108 ms a query at 4,190 posts).
SQLITE_MATCHES = (
    f"FROM {TABLE} CROSS JOIN post ON post.id = {TABLE}.rowid WHERE {TABLE} MATCH :q AND {PUBLIC}"
)


def newest_matches(where: str, params: dict, post_id: str) -> tuple[int, bool, int]:
    """(how many match, up to CANDIDATES; whether more do; the oldest id to rank):
    the newest matches by post id (the column `post_id`, which the index is ordered by),
    read in that order and no further."""
    ids = db.session.scalars(
        text(f"SELECT {post_id} {where} ORDER BY {post_id} DESC LIMIT :candidates"),
        {**params, "candidates": CANDIDATES + 1},
    ).all()
    more = len(ids) > CANDIDATES
    return min(len(ids), CANDIDATES), more, ids[CANDIDATES - 1] if more else 0


def run_sqlite(words: str, query: str, limit: int, offset: int) -> Results:
    total, more, oldest = newest_matches(SQLITE_MATCHES, {"q": query}, f"{TABLE}.rowid")
    ranked = db.session.scalars(
        text(
            f"SELECT post.id {SQLITE_MATCHES} AND {TABLE}.rowid >= :oldest"
            f" ORDER BY bm25({TABLE}, {TITLE_WEIGHT}, 1.0), post.published_at DESC"
            " LIMIT :limit OFFSET :offset"
        ),
        {"q": query, "oldest": oldest, "limit": limit, "offset": offset},
    ).all()
    # Marked for the page's posts only: in the ranking query, every candidate's snippet
    # was made before the sort kept ten (half the query's time).
    marks = {
        row[0]: row[1:]
        for row in db.session.execute(
            text(
                f"SELECT rowid, highlight({TABLE}, 0, :start, :stop),"
                f" snippet({TABLE}, 1, :start, :stop, '…', 30)"
                f" FROM {TABLE} WHERE {TABLE} MATCH :q AND rowid IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"q": query, "start": START, "stop": STOP, "ids": ranked},
        )
    }
    hits = [Hit(i, marked(marks[i][0]), marked(marks[i][1])) for i in ranked if i in marks]
    return Results(words, total, hits, more)


def run_postgres(words: str, limit: int, offset: int) -> Results:
    config = postgres_config()  # a name from POSTGRES_CONFIGS, never the reader's text
    tsquery = f"websearch_to_tsquery('{config}', :q)"
    where = (
        f"FROM {TABLE} s JOIN post ON post.id = s.post_id"
        f" WHERE s.document @@ {tsquery} AND {PUBLIC}"
    )
    total, more, oldest = newest_matches(where, {"q": words}, "s.post_id")
    headline = (
        f"ts_headline('{config}', translate({{column}}, '<>', :angles), {tsquery},"
        " 'StartSel=' || :start || ', StopSel=' || :stop || ', {options}')"
    )
    rows = db.session.execute(
        text(
            "SELECT page.id,"
            f" {headline.format(column='page.title', options='HighlightAll=true')},"
            f" {headline.format(column='page.body', options='MaxWords=35, MinWords=15')}"
            " FROM (SELECT post.id, s.title, s.body, post.published_at,"
            f" ts_rank_cd(s.document, {tsquery}) AS rank {where} AND s.post_id >= :oldest"
            " ORDER BY rank DESC, post.published_at DESC LIMIT :limit OFFSET :offset) AS page"
            " ORDER BY page.rank DESC, page.published_at DESC"
        ),
        {
            "q": words,
            "start": START,
            "stop": STOP,
            "angles": ANGLES,
            "limit": limit,
            "offset": offset,
            "oldest": oldest,
        },
    )
    hits = [Hit(row[0], marked(row[1]), marked(row[2])) for row in rows]
    return Results(words, total, hits, more)
