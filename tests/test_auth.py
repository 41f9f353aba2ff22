"""Logging in and out, the one-time setup page, CSRF, and who may do what."""

import pytest

from blog.auth import is_safe_next, setup_token
from blog.database import db
from blog.models import User


@pytest.mark.parametrize("name", ["alice", "ALICE", "alice@example.com", " Alice@Example.COM "])
def test_login_takes_the_name_or_the_email(client, auth, add_user, name):
    add_user("alice")

    response = auth.login(name)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", "password123"), ("", "password123"), ("alice", "")],
)
def test_bad_login_says_so_without_telling_who_exists(client, add_user, username, password):
    add_user("alice")

    response = client.post("/login", data={"username": username, "password": password})

    assert response.status_code == 422
    assert client.get("/admin/").status_code == 302  # still logged out
    if username and password:
        assert "Wrong user name or password." in response.text


def test_an_imported_author_without_a_password_cannot_log_in(app, client):
    with app.app_context():
        db.session.add(User(username="ghost", email="ghost@example.com", password_hash=""))
        db.session.commit()

    assert client.post("/login", data={"username": "ghost", "password": "x"}).status_code == 422


def test_every_login_checks_one_password_hash_whoever_is_named(app, client, add_user, monkeypatch):
    """The answer takes as long for a name nobody has, or an account without a password,
    as for a wrong password: its time tells nobody which accounts exist."""
    import blog.models

    checked = []
    real = blog.models.check_password_hash
    monkeypatch.setattr(
        blog.models,
        "check_password_hash",
        lambda hashed, word: checked.append(1) or real(hashed, word),
    )
    add_user("alice")
    with app.app_context():
        db.session.add(User(username="ghost", email="ghost@example.com", password_hash=""))
        db.session.commit()

    for name in ("alice", "nobody", "ghost", "alice@example.com"):
        checked.clear()
        answer = client.post("/login", data={"username": name, "password": "wrong password"})
        assert answer.status_code == 422 and checked == [1], name


def test_login_follows_next_within_the_site(client, add_user):
    add_user("alice")

    response = client.post(
        "/login?next=/admin/posts/new", data={"username": "alice", "password": "password123"}
    )

    assert response.headers["Location"] == "/admin/posts/new"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\t/evil.example",
        "",
    ],
)
def test_login_never_redirects_off_the_site(client, add_user, target):
    add_user("alice")

    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "alice", "password": "password123"},
    )

    assert response.headers["Location"] == "/admin/"
    assert not is_safe_next(target)


def test_logout_needs_a_post_and_ends_the_session(client, auth, add_user):
    add_user("alice")
    auth.login()

    client.get("/logout")  # a link or an <img> elsewhere must not log anyone out
    assert client.get("/admin/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/admin/").status_code == 302


def test_admin_pages_send_visitors_to_login(client):
    response = client.get("/admin/posts/new")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_a_form_post_without_csrf_token_is_refused(client, add_user):
    add_user("alice")

    response = client.post("/login", data={"username": "alice", "password": "password123"})

    assert response.status_code == 400
    assert "The form had expired or came from another site" in response.text


@pytest.mark.config(WTF_CSRF_ENABLED=True)
def test_logout_without_csrf_token_is_refused(client, auth, add_user):
    assert client.post("/logout").status_code == 400


def test_setup_creates_the_owner_and_names_the_site(app, client):
    token = setup_token(app)

    form = client.get(f"/setup?token={token}")
    response = client.post(
        f"/setup?token={token}",
        data={
            "site_title": "Field Notes",
            "username": "Ada",
            "email": "Ada@Example.com",
            "password": "correct horse",
            "confirm": "correct horse",
        },
    )

    assert response.status_code == 302, response.text
    assert form.status_code == 200
    for label in ("Site title", "User name", "Email", "Password"):
        assert f">{label}</label>" in form.text
    assert response.status_code == 302
    assert app.config["SITE"]["title"] == "Field Notes"
    with app.app_context():
        owner = db.session.scalar(db.select(User))
        assert (owner.username, owner.email, owner.role) == ("ada", "ada@example.com", "admin")
    assert client.get("/admin/").status_code == 200  # logged in straight away
    assert client.get(f"/setup?token={token}").status_code == 404  # gone for good


@pytest.mark.parametrize("query", ["", "?token=", "?token=guess", "?token=" + "0" * 32])
def test_setup_needs_the_printed_token(client, query):
    assert client.get(f"/setup{query}").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "two words", "no spaces"),
        ("email", "not-an-email", "Invalid email address"),
        ("password", "short", "at least 8 characters"),
        ("confirm", "different!", "The passwords differ."),
        ("site_title", "", "This field is required."),
    ],
)
def test_setup_explains_each_bad_field(app, client, field, value, message):
    data = {
        "site_title": "Field Notes",
        "username": "ada",
        "email": "ada@example.com",
        "password": "correct horse",
        "confirm": "correct horse",
    }
    data[field] = value

    response = client.post(f"/setup?token={setup_token(app)}", data=data)

    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(db.select(User)) is None


def test_setup_page_is_gone_once_an_account_exists(app, client, add_user):
    add_user("alice")

    assert client.get(f"/setup?token={setup_token(app)}").status_code == 404


@pytest.mark.parametrize(
    ("role", "own", "others", "users", "categories"),
    [
        ("admin", 200, 200, 200, 200),
        ("editor", 200, 200, 403, 200),
        ("author", 200, 403, 403, 403),
    ],
)
def test_roles_decide_what_a_user_may_edit(
    client, auth, add_user, add_post, role, own, others, users, categories
):
    add_user("someone", role="author")
    theirs = add_post("Someone else's post", author="someone")
    add_user("me", role=role)
    mine = add_post("My own post", author="me")
    auth.login("me")

    assert client.get(f"/admin/posts/{mine}/edit").status_code == own
    assert client.get(f"/admin/posts/{theirs}/edit").status_code == others
    assert client.post(f"/admin/posts/{theirs}/delete").status_code in (others, 302)
    assert client.get("/admin/users/").status_code == users
    assert client.get("/admin/users/new").status_code == users
    assert client.get("/admin/categories/").status_code == categories


def test_repeated_failed_logins_are_throttled_per_address(client, add_user):
    add_user("alice")
    for attempt in range(10):
        response = client.post("/login", data={"username": f"guess{attempt}", "password": "x"})
        assert response.status_code == 422

    blocked = client.post("/login", data={"username": "alice", "password": "password123"})
    other_address = client.post(
        "/login",
        data={"username": "alice", "password": "password123"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )

    assert blocked.status_code == 429
    assert "Too many failed logins. Try again in 15 minute(s)." in blocked.text
    assert other_address.status_code == 302


def test_an_account_counts_once_under_any_spelling(client, add_user):
    add_user("alice")
    for attempt in range(5):  # LOGIN_FAILURES_PER_ACCOUNT_FROM_ADDRESS
        name = "alice" if attempt % 2 else "ALICE@example.com"
        client.post("/login", data={"username": name, "password": "wrong"})

    here = client.post("/login", data={"username": "alice", "password": "password123"})
    elsewhere = client.post(
        "/login",
        data={"username": "alice@example.com", "password": "password123"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )

    assert here.status_code == 429
    assert elsewhere.status_code == 302


def test_a_spread_out_guesser_never_locks_the_owner_out(app, client, add_user):
    """Past 50 failures on an account in an hour, the addresses that failed on it wait;
    the owner, from a place that has not failed, still logs in."""
    add_user("alice")
    for attempt in range(50):
        client.post(
            "/login",
            data={"username": "alice", "password": "wrong"},
            environ_base={"REMOTE_ADDR": f"10.0.{attempt // 200}.{attempt % 200}"},
        )

    guesser = client.post(
        "/login",
        data={"username": "alice", "password": "password123"},  # even the right one
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    owner = app.test_client().post(
        "/login",
        data={"username": "ALICE", "password": "password123"},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )

    assert guesser.status_code == 429
    assert owner.status_code == 302


def test_every_worker_counts_the_same_failures_without_redis(make_app, tmp_path):
    """Two apps on one instance folder, as two gunicorn workers: one count (in
    instance/throttle.sqlite3, or Redis when REDIS_URL is set)."""
    from tests.conftest import DATABASE_URL, ON_POSTGRES

    database = DATABASE_URL if ON_POSTGRES else f"sqlite:///{tmp_path / 'site.sqlite3'}"
    shared = {"SQLALCHEMY_DATABASE_URI": database, "THROTTLE_KEY_PREFIX": f"w-{tmp_path.name}"}
    first, second = make_app(config=shared), make_app(config=shared)
    for attempt in range(10):  # LOGIN_FAILURES_PER_ADDRESS, half through each worker
        worker = (first, second)[attempt % 2]
        worker.test_client().post("/login", data={"username": f"guess{attempt}", "password": "x"})

    blocked = second.test_client().post("/login", data={"username": "x", "password": "y"})

    assert blocked.status_code == 429
