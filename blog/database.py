"""The database handle, migrations, and the engine settings every connection needs."""

import os
import sqlite3
from pathlib import Path

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS = Path(__file__).parent / "migrations"

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


def include_object(object, name, type_, reflected, compare_to):
    """Keep autogenerate to the core's and the enabled plugins' tables.

    A switched-off plugin's tables stay in the database without a model, and a
    plugin imported by another app in the same process has a model without a
    table here: neither is a change to propose.
    """
    if type_ != "table":
        return True
    if reflected and compare_to is None:
        return False
    from blog.models import CORE_TABLES

    enabled = current_app.config["PLUGINS"].get("enabled", [])
    return name in CORE_TABLES or any(name.startswith(f"{plugin}_") for plugin in enabled)


# Flask-Migrate's group becomes `flask alembic ...`; `flask db upgrade` is ours (blog/cli.py),
# because with one Alembic branch per plugin a bare `upgrade head` meets several heads.
migrate = Migrate(command="alembic", render_as_batch=True, include_object=include_object)


@migrate.configure
def add_plugin_branches(config):
    """List every found plugin's versions folder, enabled or not.

    A recorded revision of a switched-off plugin must still resolve, or every
    Alembic command fails with "Can't locate revision".
    """
    from blog.plugins import migration_folders

    folders = [MIGRATIONS / "versions", *migration_folders(current_app)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    return config


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


def init_app(app) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
