"""Accounts: one set of rules, kept by blog/accounts.py, wherever an account is made."""

import html

import pytest

from blog.accounts import AccountError, create_account, update_account, username_from
from blog.auth import setup_token
from blog.database import db
from blog.models import User
from blog.names import first_free
from tests.test_hooks import WXR_WITH_ONE_POST, import_text

# (field, value, what every way of making an account says about it)
BAD_ACCOUNTS = [
    ("username", "Ada Lovelace", "Use letters, digits, dots, dashes or underscores, no spaces."),
    ("username", "a", "Use 2 to 60 characters for the user name."),
    ("username", "alice", "That user name is taken: alice exists already."),
    ("email", "ada@", "Invalid email address"),
    ("email", "alice@example.com", "An account with that email exists already."),
    ("password", "short", "Use at least 8 characters"),
    ("password", "12345678", "one of the 30,000 commonest passwords"),
    ("password", "PassWord", "one of the 30,000 commonest passwords"),  # in any case
]


def good_account(**changes) -> dict:
    return {"username": "ada", "email": "ada@example.com", "password": "long enough", **changes}


@pytest.mark.parametrize(("field", "value", "message"), BAD_ACCOUNTS)
def test_the_function_refuses_what_breaks_a_rule(app, add_user, field, value, message):
    add_user("alice")

    with app.app_context(), pytest.raises(AccountError, match=message) as refused:
        create_account(**good_account(**{field: value}))

    assert refused.value.field == field


@pytest.mark.parametrize(("field", "value", "message"), BAD_ACCOUNTS)
def test_the_command_line_says_the_same(runner, add_user, field, value, message):
    add_user("alice")
    account = good_account(**{field: value})

    result = runner.invoke(
        args=["user", "create", account["username"], "--email", account["email"],
              "--password", account["password"]],
    )  # fmt: skip

    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize(("field", "value", "message"), BAD_ACCOUNTS)
def test_the_admin_says_the_same(writer, field, value, message):
    account = good_account(role="author", **{field: value})

    response = writer.post("/admin/users/new", data=account)

    assert response.status_code == 422
    assert message in html.unescape(response.text)


# The setup page exists only while there is no account to clash with.
@pytest.mark.parametrize(
    ("field", "value", "message"), [bad for bad in BAD_ACCOUNTS if "alice" not in bad[1]]
)
def test_the_setup_page_says_the_same(app, client, field, value, message):
    account = good_account(site_title="Field Notes", **{field: value})
    account["confirm"] = account["password"]

    response = client.post(f"/setup?token={setup_token(app)}", data=account)

    assert response.status_code == 422
    assert message in html.unescape(response.text)


def test_an_account_without_a_password_cannot_log_in_and_has_a_placeholder_email(app, auth):
    with app.app_context():
        user = create_account("imported", "", role="author")
        db.session.commit()
        assert user.email == "imported@imported.invalid"
        assert not user.check_password("")

    assert auth.login("imported", "anything at all").status_code == 422  # refused


def test_an_email_is_needed_for_an_account_that_can_log_in(app):
    with app.app_context(), pytest.raises(AccountError, match="Give an email address"):
        create_account("ada", "", password="long enough")


def test_the_last_admin_keeps_the_role(app, add_user):
    with app.app_context():
        admin = db.session.get(User, add_user("alice", role="admin"))

        with pytest.raises(AccountError, match="at least one admin"):
            update_account(admin, role="editor")


@pytest.mark.parametrize(
    ("login", "name"),
    [
        ("Ada Lovelace", "ada-lovelace"),
        ("ada@home.example", "ada-home.example"),
        ("  >bob<  ", "bob"),
        ("x", "author-x"),
        ("@", "author"),
        ("é" * 80, "é" * 60),
    ],
)
def test_logins_from_elsewhere_become_names_that_keep_the_rules(app, login, name):
    assert username_from(login.strip().strip("<>")) == name


def test_the_importer_makes_its_authors_through_the_same_function(app, tmp_path):
    export = WXR_WITH_ONE_POST.replace(
        "<channel>",
        "<channel><wp:author><wp:author_login>Ada Lovelace</wp:author_login>"
        "<wp:author_email>not an address</wp:author_email></wp:author>",
    ).replace("<dc:creator>ada</dc:creator>", "<dc:creator>Ada Lovelace</dc:creator>")

    summary = import_text(app, tmp_path, export)

    with app.app_context():
        user = db.session.scalar(db.select(User))
        assert (user.username, user.email, user.password_hash) == (
            "ada-lovelace",
            "ada-lovelace@imported.invalid",
            "",
        )
    assert any("Invalid email address" in note for note in summary.notes)


def test_a_free_name_numbers_the_base_never_a_number_twice():
    taken = {"river", "river-2"}

    assert first_free("sea", taken.__contains__) == "sea"
    assert first_free("river", taken.__contains__) == "river-3"
    assert first_free("river-2", taken.__contains__) == "river-2-2"  # asked for as such
    assert first_free("x" * 10, {"x" * 10}.__contains__, max_length=10) == "x" * 8 + "-2"


def test_a_new_password_on_the_profile_is_refused_when_common(writer):
    answer = writer.post(
        "/admin/profile",
        data={"email": "alice@example.com", "current_password": "password123",
              "new_password": "iloveyou", "confirm": "iloveyou"},
    )  # fmt: skip

    assert answer.status_code == 422 and "30,000 commonest passwords" in answer.text
