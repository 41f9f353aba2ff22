"""Migrations: `flask db upgrade` builds the schema the models describe, on any database."""

from sqlalchemy import inspect

from blog.database import db
from blog.models import CORE_TABLES
from blog.plugins import available_plugins

BUILT_IN = sorted(name for name, (_, source) in available_plugins().items() if source == "plugins/")


def test_upgrade_builds_every_table_and_matches_the_models(migrated_app):
    # `alembic check` wants every branch at its head, so every built-in plugin is on.
    app = migrated_app(BUILT_IN)
    runner = app.test_cli_runner()

    check = runner.invoke(args=["alembic", "check"])
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())

    assert CORE_TABLES <= tables
    assert check.exit_code == 0, check.output


def test_upgrade_twice_changes_nothing(migrated_app):
    app = migrated_app([])

    again = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert again.exit_code == 0
    assert "Database is up to date." in again.output


def test_every_lookup_and_ordering_column_is_indexed(migrated_app):
    app = migrated_app([])
    with app.app_context():
        inspector = inspect(db.engine)
        post_indexes = {tuple(index["column_names"]) for index in inspector.get_indexes("post")}
        post_unique = {
            tuple(constraint["column_names"])
            for constraint in inspector.get_unique_constraints("post")
        }
        link_indexes = {
            tuple(index["column_names"]) for index in inspector.get_indexes("post_category")
        }

    assert ("status", "published_at") in post_indexes  # home, feed: published, newest first
    assert ("author_id", "status", "published_at") in post_indexes  # an author's posts
    assert ("updated_at",) in post_indexes  # the editor's list
    assert ("created_at",) in post_indexes  # post list
    assert ("slug",) in post_unique  # /<slug>/
    assert ("category_id", "post_id") in link_indexes  # a category's posts


def test_a_plugin_branch_is_upgraded_only_while_the_plugin_is_on(migrated_app):
    off = migrated_app(["categories"])
    with off.app_context():
        before = set(inspect(db.engine).get_table_names())

    on = migrated_app(["categories", "comments"])
    with on.app_context():
        after = set(inspect(db.engine).get_table_names())

    assert "comments_comment" not in before
    assert {"comments_comment", "comments_closed_post"} <= after


def test_downgrade_to_base_removes_every_table_and_upgrade_builds_them_again(migrated_app):
    app = migrated_app(BUILT_IN)
    runner = app.test_cli_runner()

    down = runner.invoke(args=["alembic", "downgrade", "base"])
    with app.app_context():
        left = set(inspect(db.engine).get_table_names())
    up = runner.invoke(args=["db", "upgrade"])
    check = runner.invoke(args=["alembic", "check"])

    assert down.exit_code == 0, down.output
    assert left <= {"alembic_version"}
    assert up.exit_code == 0, up.output
    assert check.exit_code == 0, check.output


def test_the_migration_that_adds_file_uses_finds_them_in_the_posts_there_are(migrated_app):
    from blog.editing import PostData, save_post
    from blog.models import Attachment, User, attachment_use

    app = migrated_app([])
    runner = app.test_cli_runner()
    with app.app_context():
        author = User(username="al", email="al@example.com")
        db.session.add_all([author, Attachment(url="/uploads/2026/11/a.png", path="2026/11/a.png")])
        db.session.commit()
        save_post(PostData(title="Shown", body="![A](/uploads/2026/11/a.png)"), author)
        before = db.session.execute(db.select(attachment_use)).all()
        db.session.remove()

    down = runner.invoke(args=["alembic", "downgrade", "0005core"])
    up = runner.invoke(args=["db", "upgrade"])
    with app.app_context():
        after = db.session.execute(db.select(attachment_use)).all()

    assert down.exit_code == 0 and up.exit_code == 0, down.output + up.output
    assert before == after == [(1, 1)]
