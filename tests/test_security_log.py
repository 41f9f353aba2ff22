"""The admins' security log: every kind of event, with who, from where and when."""

from datetime import timedelta

import pytest

from blog import create_app, security_log
from blog.database import db
from blog.models import SecurityEvent, User, utcnow
from tests.conftest import app_config
from tests.test_hooks import WXR_WITH_ONE_POST


def lines(app, event=None):
    """(event, account, by, address, detail) of each line, oldest first."""
    with app.app_context():
        query = db.select(SecurityEvent).order_by(SecurityEvent.id)
        if event:
            query = query.where(SecurityEvent.event == event)
        return [
            (line.event, line.account_name, line.actor_name, line.address, line.detail)
            for line in db.session.scalars(query)
        ]


def user_id(app, name):
    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.username == name))


def test_logins_failures_lockouts_and_logouts(app, client, auth, add_user):
    add_user("alice", role="author")
    here = {"REMOTE_ADDR": "192.0.2.7"}

    client.post("/login", data={"username": "ALICE", "password": "wrong"}, environ_base=here)
    client.post("/login", data={"username": "nobody", "password": "x"}, environ_base=here)
    for _ in range(4):
        client.post("/login", data={"username": "alice", "password": "wrong"}, environ_base=here)
    client.post("/login", data={"username": "alice", "password": "wrong"}, environ_base=here)
    auth.login()
    auth.logout()

    assert lines(app) == [
        ("login-failed", "alice", "", "192.0.2.7", ""),  # as typed, lower-cased
        ("login-failed", "nobody", "", "192.0.2.7", ""),  # no such account: worth knowing
        *[("login-failed", "alice", "", "192.0.2.7", "")] * 4,
        ("login-throttled", "alice", "", "192.0.2.7", ""),  # 5 on one account from one place
        ("login", "alice", "alice", "127.0.0.1", ""),
        ("logout", "alice", "alice", "127.0.0.1", ""),
    ]
    with app.app_context():
        line = db.session.scalar(db.select(SecurityEvent).where(SecurityEvent.event == "login"))
        assert line.account_id == line.actor_id == user_id(app, "alice")
        assert utcnow() - line.created_at < timedelta(minutes=1)


def test_a_disabled_account_that_knows_its_password_is_logged(app, client, add_user):
    add_user("bob", role="author")
    with app.app_context():
        db.session.execute(db.update(User).values(active=False))
        db.session.commit()

    client.post("/login", data={"username": "bob", "password": "password123"})

    assert lines(app) == [("login-failed", "bob", "", "127.0.0.1", "the account is disabled")]


def test_account_changes_say_who_made_them(app, writer, add_user):
    add_user("bob", role="author")
    bob = user_id(app, "bob")
    profile = {"username": "bob", "email": "bob@example.com", "display_name": ""}
    before = len(lines(app))

    carol = {"username": "carol", "email": "carol@example.com", "role": "author",
             "password": "a long new passphrase"}  # fmt: skip
    writer.post("/admin/users/new", data=carol)
    writer.post(f"/admin/users/{bob}/", data={**profile, "role": "editor"})
    writer.post(f"/admin/users/{bob}/", data={**profile, "role": "editor",
                                              "password": "another long passphrase"})  # fmt: skip
    writer.post(f"/admin/users/{bob}/", data={**profile, "email": "robert@example.com",
                                              "role": "editor"})  # fmt: skip
    writer.post(f"/admin/users/{bob}/password-link")
    writer.post(f"/admin/users/{bob}/sessions")
    writer.post(f"/admin/users/{bob}/active", data={"active": "0"})
    writer.post(f"/admin/users/{bob}/active", data={"active": "1"})

    assert lines(app)[before:] == [
        ("account-created", "carol", "alice", "127.0.0.1", "role: author"),
        ("role-changed", "bob", "alice", "127.0.0.1", "author → editor"),
        ("password-changed", "bob", "alice", "127.0.0.1", ""),
        ("email-changed", "bob", "alice", "127.0.0.1", "bob@example.com → robert@example.com"),
        ("password-link", "bob", "alice", "127.0.0.1", "valid 3 days"),
        ("sessions-ended", "bob", "alice", "127.0.0.1", ""),
        ("account-disabled", "bob", "alice", "127.0.0.1", ""),
        ("account-enabled", "bob", "alice", "127.0.0.1", ""),
    ]


def test_a_change_that_is_refused_leaves_no_line(app, writer):
    alice = user_id(app, "alice")
    before = lines(app)

    # The last admin cannot stop being one: the new password in the same form is not kept.
    answer = writer.post(f"/admin/users/{alice}/", data={
        "username": "alice", "email": "alice@example.com", "role": "author",
        "password": "a long new passphrase"})  # fmt: skip

    assert answer.status_code == 422
    assert lines(app) == before


def test_exports_imports_and_settings_are_logged(app, writer, add_post, tmp_path):
    add_post("Exported")
    before = len(lines(app))
    wxr = tmp_path / "site.xml"
    wxr.write_text(WXR_WITH_ONE_POST)

    writer.post("/admin/export/wordpress.xml").close()
    with wxr.open("rb") as upload:
        writer.post("/admin/import-export", data={"file": (upload, "site.xml")}).get_data()
    writer.post("/admin/settings", data={"title": "New title", "url": "http://blog.test",
                                         "posts_per_page": "10", "language": "en",
                                         "timezone": "UTC"})  # fmt: skip

    logged = lines(app)[before:]
    assert [line[0] for line in logged] == ["export", "account-created", "import",
                                            "settings-changed"]  # fmt: skip
    assert logged[0][2:] == (
        "alice",
        "127.0.0.1",
        "1 authors, 0 categories, 0 tags, 1 posts, 0 comments",
    )
    assert logged[2][4] == "from http://old.test: 1 authors, 1 posts"
    assert logged[3][4] == "title: 'My Blog' → 'New title'"


def test_the_command_line_is_logged_without_an_address(app, runner, add_user):
    add_user("bob", role="author")

    runner.invoke(args=["user", "password-link", "bob"])

    assert lines(app) == [("password-link", "bob", "", "", "made on the command line")]


def test_plugins_switched_on_and_off_are_logged_at_start(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'site.sqlite3'}"
    first = make_app(["comments"], config={"SQLALCHEMY_DATABASE_URI": url})

    security_log.record_plugin_changes(first)
    security_log.record_plugin_changes(first)  # a restart with nothing changed
    # The owner edits config.toml and restarts: a new app on the same database.
    second = create_app({**app_config(tmp_path, ["categories"]), "SQLALCHEMY_DATABASE_URI": url})
    security_log.record_plugin_changes(second)
    with second.app_context():
        db.engine.dispose()

    assert [line[4] for line in lines(first, "plugins-changed")] == [
        "+comments; enabled: comments",
        "+categories -comments; enabled: categories",
    ]


def test_old_failed_logins_are_dropped_as_new_ones_come(app, client, add_user):
    add_user("alice", role="author")
    with app.app_context():
        for days in (200, 91, 10):
            db.session.add(SecurityEvent(event="login-failed", account_name="old",
                                         created_at=utcnow() - timedelta(days=days)))  # fmt: skip
        db.session.add(SecurityEvent(event="role-changed", account_name="kept",
                                     created_at=utcnow() - timedelta(days=400)))  # fmt: skip
        db.session.commit()

    client.post("/login", data={"username": "alice", "password": "wrong"})

    assert [line[1] for line in lines(app)] == ["old", "kept", "alice"]


def test_admins_read_the_log_and_filter_it(app, client, auth, add_user):
    add_user("alice", role="admin")
    client.post("/login", data={"username": "alice", "password": "<b>wrong</b>"})
    client.post("/login", data={"username": "<script>x</script>", "password": "x"})
    auth.login()

    everything = client.get("/admin/security")
    failures = client.get("/admin/security?event=login-failed")

    assert everything.status_code == 200
    assert "Logged in" in everything.text and "Wrong user name or password" in everything.text
    assert "&lt;script&gt;x&lt;/script&gt;" in everything.text  # the name as typed, escaped
    assert "<script>x" not in everything.text
    assert failures.text.count("<tr>") == 1 + 2  # the heading and two failures
    assert "Logged in</td>" not in failures.text


@pytest.mark.parametrize("role", ["editor", "author"])
def test_only_admins_read_the_log(client, auth, add_user, role):
    add_user("bob", role=role)
    auth.login("bob")

    assert client.get("/admin/security").status_code == 403
