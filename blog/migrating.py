"""Migrations: Alembic through Flask-Migrate, the core's history plus one branch per plugin.

The core's revisions are in blog/migrations/versions/ (branch "core"); each plugin's
are in its own migrations/ folder, labelled with its name. `flask db upgrade`
(blog/cli.py) brings the core and every enabled plugin's branch to head.
"""

import os
from pathlib import Path

from flask import current_app
from flask_migrate import Migrate

from blog.database import db
from blog.models import CORE_TABLES
from blog.plugins import migration_folders

MIGRATIONS = Path(__file__).parent / "migrations"


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
    folders = [MIGRATIONS / "versions", *migration_folders(current_app)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(f) for f in folders))
    return config


def init_app(app) -> None:
    migrate.init_app(app, db, directory=str(MIGRATIONS))
