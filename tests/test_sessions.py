"""Sessions end on the server, everywhere at once.

Logging out, a new password or role, "log out everywhere" and disabling the account end
every session and remember-me cookie of that person, copies included: each carries the
account's session generation (blog/models.py User.get_id), which these raise.
"""

import re

import pytest

from blog.database import db
from blog.models import User


def stolen(app, client, *names):
    """Another browser with copies of `client`'s cookies of these names."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(User.id).where(User.username == username))


def test_a_copied_session_ends_when_its_owner_logs_out(app, client, auth, add_user):
    add_user("alice")
    auth.login()
    thief = stolen(app, client, "session")
    assert logged_in(thief)

    auth.logout()

    assert not logged_in(thief) and not logged_in(client)
    auth.login()
    assert logged_in(client)  # a new login works at once


def test_a_remember_me_cookie_ends_with_a_new_password(app, client, add_user):
    add_user("alice")
    client.post("/login", data={"username": "alice", "password": "password123", "remember": "y"})
    thief = stolen(app, client, "remember_token")  # no session: remember-me alone
    assert logged_in(thief)

    changed = client.post(
        "/admin/profile",
        data={"email": "alice@example.com", "current_password": "password123",
              "new_password": "a much newer secret", "confirm": "a much newer secret"},
    )  # fmt: skip

    assert changed.status_code == 302
    assert not logged_in(stolen(app, thief, "remember_token"))
    assert logged_in(client)  # who changed it stays in, in this browser


def test_a_new_role_ends_the_person_s_sessions(app, client, auth, add_user):
    add_user("alice")
    add_user("bob", role="editor")
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": "password123"})
    assert logged_in(bob)
    auth.login("alice")

    client.post(
        f"/admin/users/{user_id(app, 'bob')}/",
        data={"username": "bob", "email": "bob@example.com", "role": "author"},
    )

    assert not logged_in(bob)


def test_log_out_everywhere(app, client, auth, add_user):
    add_user("alice")
    add_user("bob", role="editor")
    auth.login("alice")
    elsewhere = stolen(app, client, "session")
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": "password123"})

    client.post(f"/admin/users/{user_id(app, 'bob')}/sessions")  # an admin, for bob
    assert not logged_in(bob) and logged_in(client)
    ended = client.post("/admin/profile/sessions")  # alice, for herself

    assert ended.headers["Location"].endswith("/login")
    assert not logged_in(client) and not logged_in(elsewhere)


def test_a_disabled_account_cannot_log_in_and_its_sessions_end(app, client, auth, add_user):
    add_user("alice")
    add_user("bob", role="author")
    bob = app.test_client()
    bob.post("/login", data={"username": "bob", "password": "password123"})
    auth.login("alice")
    bob_id = user_id(app, "bob")

    client.post(f"/admin/users/{bob_id}/active", data={"active": "0"})
    refused = bob.post("/login", data={"username": "bob", "password": "password123"})
    listing = client.get("/admin/users/").text

    assert not logged_in(bob)
    assert refused.status_code == 422 and "This account is disabled" in refused.text
    assert "no: disabled" in listing
    client.post(f"/admin/users/{bob_id}/active", data={"active": "1"})
    bob.post("/login", data={"username": "bob", "password": "password123"})
    assert logged_in(bob)


def test_the_last_admin_who_can_log_in_cannot_be_disabled(app, client, auth, add_user):
    add_user("alice")
    auth.login("alice")

    answer = client.post(f"/admin/users/{user_id(app, 'alice')}/active", data={"active": "0"})

    assert "at least one admin who can log in" in client.get(answer.headers["Location"]).text
    assert logged_in(client)
    with app.app_context():
        assert db.session.get(User, user_id(app, "alice")).active


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_the_csrf_token_changes_at_login(client, add_user):
    add_user("alice")
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    with client.session_transaction() as session:
        before = session["csrf_token"]

    client.post(
        "/login",
        data={"csrf_token": token, "username": "alice", "password": "password123"},
        headers={"Origin": "http://localhost"},
    )
    client.get("/admin/posts/new")
    with client.session_transaction() as session:
        after = session.get("csrf_token")

    assert logged_in(client) and after and after != before


def test_sessions_made_before_the_upgrade_log_in_again(app, client, add_user):
    """A session that names the id alone (no generation) is from before: it ends."""
    alice = add_user("alice")
    with client.session_transaction() as session:
        session["_user_id"] = str(alice)
        session["_fresh"] = True

    assert not logged_in(client)


def test_an_admin_who_changes_their_own_password_on_the_users_page_stays_in(
    app, client, auth, add_user
):
    add_user("alice")
    auth.login("alice")
    elsewhere = stolen(app, client, "session")

    client.post(
        f"/admin/users/{user_id(app, 'alice')}/",
        data={"username": "alice", "email": "alice@example.com", "role": "admin",
              "password": "a much newer secret"},
    )  # fmt: skip

    assert logged_in(client) and not logged_in(elsewhere)
