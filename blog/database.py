"""The database handle, the engine settings every connection needs, and what every
row written through the session is cleaned of."""

import itertools
import sqlite3

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, String, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from blog.rendering import replace_control_characters_in

# Named constraints let Alembic's SQLite batch mode drop and recreate them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def tune_sqlite(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and let readers and a writer work side by side.

    One module-level listener (not one per app), checked against the driver, so
    PostgreSQL connections pass through untouched.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA journal_mode")
    if cursor.fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


@event.listens_for(Session, "before_flush")
def replace_control_characters(session, flush_context, instances) -> None:
    """No text stored through the session holds a control character (but tab and line
    ends), whoever wrote it: the editor, an import, the CLI or a plugin.

    HTML calls them parse errors and XML 1.0 cannot carry them at all: one ESC in a title
    made the feeds ill formed. The forms drop them as they are typed (blog/forms.py) and
    the sanitiser never puts one out; this catches every other way in, once, where rows
    are written. It puts U+FFFD in their place rather than dropping them: a column may
    hold HTML, and dropping characters could join "java\x01script:" into a live link.
    """
    for row in itertools.chain(session.new, session.dirty):
        state = inspect(row)
        for column in state.mapper.column_attrs:
            value = state.dict.get(column.key)  # only what is loaded: never a lazy load
            if isinstance(value, str) and isinstance(column.columns[0].type, String):
                cleaned = replace_control_characters_in(value)
                if cleaned != value:
                    setattr(row, column.key, cleaned)


def refresh_planner_statistics() -> None:
    """After many rows arrive at once (an import, a search rebuild): let PostgreSQL's
    planner see them, in every table, the plugins' included (an import fills them all).

    PostgreSQL plans on each table's sampled statistics, which autovacuum refreshes only
    some time after a bulk write, and never where it is switched off. Planned on a table
    it still thinks empty, a search joins from `post` and costs ten times more
    (bench/search.py), and the feed reads every category's posts to find its twenty
    posts' categories (36 ms instead of 0.3 at 100,000 posts). ANALYZE reads a sample of
    each table: about a second at 100,000 posts. SQLite plans without statistics here
    (its searches name their join order, blog/search.py) and is left as it is.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def init_app(app) -> None:
    db.init_app(app)
