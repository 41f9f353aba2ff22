"""The command line: db upgrade, user create, post create/list, plugins; failures in one line."""

import pytest

from blog.database import db
from blog.models import Post, User


def one_line_error(result, text):
    assert result.exit_code != 0
    assert text in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_user_create_asks_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["user", "create", "Ada", "--email", "Ada@Example.com", "--role", "editor"],
        input="long password\nlong password\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created editor 'ada'." in result.output
    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.username, user.email, user.role) == ("ada", "ada@example.com", "editor")
        assert user.check_password("long password")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "--email", "not-an-email"], "--email 'not-an-email'"),
        (["alice", "--email", "new@example.com"], "exists already"),
        (["someone", "--email", "alice@example.com"], "exists already"),
        (["bob", "--email", "b@example.com", "--password", "short"], "at least 8 characters"),
    ],
)
def test_user_create_refuses_bad_input(runner, add_user, args, message):
    add_user("alice")
    if "--password" not in args:
        args = [*args, "--password", "long enough"]

    result = runner.invoke(args=["user", "create", *args])

    one_line_error(result, message)


def test_user_create_refuses_an_unknown_role(runner):
    result = runner.invoke(
        args=["user", "create", "bob", "--email", "b@example.com", "--role", "king"]
    )

    assert result.exit_code == 2
    assert "'king' is not one of 'admin', 'editor', 'author'" in result.output


def test_post_create_reads_markdown_from_stdin_and_prints_the_url(app, runner, add_user):
    add_user("alice")

    result = runner.invoke(
        args=["post", "create", "--title", "From the shell", "--category", "World News",
              "--category", "Politics", "--tag", "cli", "--status", "published"],
        input="Typed *in* a terminal.\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert result.output == "http://blog.test/from-the-shell/\n"
    with app.app_context():
        post = db.session.scalar(db.select(Post))
        assert post.body_html == "<p>Typed <em>in</em> a terminal.</p>\n"
        assert [category.name for category in post.categories] == ["Politics", "World News"]
        assert post.status == "published" and post.author.username == "alice"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--title", ""], "--title: Give the post a title."),
        (["--title", "x", "--author", "nobody"], "--author: no user named 'nobody'"),
        (["--title", "x", "--slug", "admin"], "--slug: The slug 'admin' is used by the site"),
    ],
)
def test_post_create_refuses_bad_input(app, runner, add_user, args, message):
    add_user("alice")

    result = runner.invoke(args=["post", "create", *args], input="body")

    one_line_error(result, message)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Post.id))) == 0


def test_post_create_needs_an_author_when_there_is_no_single_admin(runner):
    result = runner.invoke(args=["post", "create", "--title", "Orphan"], input="body")

    one_line_error(result, "--author is needed: no admin exists yet")


def test_post_list_shows_status_date_path_and_title(runner, add_post):
    add_post("Out there")
    add_post("Not yet", status="draft")

    everything = runner.invoke(args=["post", "list"]).output.splitlines()
    drafts = runner.invoke(args=["post", "list", "--status", "draft"]).output.splitlines()

    assert len(everything) == 2
    assert everything[0].startswith("draft ") and everything[0].endswith("/not-yet/  Not yet")
    assert everything[1].startswith("published ") and "/out-there/" in everything[1]
    assert drafts == [everything[0]]


@pytest.mark.plugins("categories")
def test_plugins_lists_what_is_found_and_what_is_on(runner):
    lines = runner.invoke(args=["plugins"]).output.splitlines()

    categories = next(line for line in lines if line.startswith("categories"))
    assert "enabled" in categories and "plugins/" in categories
    assert "Category pages at /category/<slug>/" in categories


def test_db_upgrade_reports_success(migrated_app):
    app = migrated_app([])

    result = app.test_cli_runner().invoke(args=["db", "upgrade"])

    assert result.output.strip().endswith("Database is up to date.")


def test_post_create_makes_a_draft_unless_told(app, runner, add_user):
    add_user("alice")

    runner.invoke(args=["post", "create", "--title", "Quiet"], input="Not yet.")

    with app.app_context():
        assert db.session.scalar(db.select(Post.status)) == "draft"


def test_commands_on_an_unmigrated_database_say_so_in_one_line(tmp_path, monkeypatch):
    from blog import create_app
    from tests.conftest import app_config

    monkeypatch.setenv("PRESSROOM_INSTANCE", str(tmp_path))
    settings = app_config(tmp_path)
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    runner = create_app(settings).test_cli_runner()

    result = runner.invoke(args=["post", "list"])

    one_line_error(result, "database error: no such table: post")
