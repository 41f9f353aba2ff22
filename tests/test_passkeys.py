"""Passkeys on the server: what is refused, what it takes to remove one, and that a
passkey makes the password alone no longer enough. The browser ceremony itself is in
tests/browser/test_passkeys_in_browser.py (Chromium's virtual authenticator)."""

import json

import pytest

from blog.database import db
from blog.models import Passkey, RecoveryCode, SecurityEvent, User
from blog.two_factor import new_recovery_codes
from tests.conftest import AuthActions


def give_passkey(app, name="alice", credential_id="key-1"):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == name))
        db.session.add(Passkey(user_id=user.id, credential_id=credential_id,
                               public_key=b"cose", name="Phone"))  # fmt: skip
        new_recovery_codes(user)
        db.session.commit()


def lines(app, event):
    with app.app_context():
        return db.session.scalars(
            db.select(SecurityEvent.detail).where(SecurityEvent.event == event)
        ).all()


def test_with_a_passkey_the_password_leads_to_a_second_step(app, client, auth, add_user):
    add_user("alice", role="author")
    give_passkey(app)

    step = auth.login()
    page = client.get("/login/two-factor").text

    assert step.headers["Location"] == "/login/two-factor"
    assert client.get("/admin/").status_code == 302
    assert "Use a passkey" in page and "passkeys.js" in page


def test_an_answer_without_a_challenge_or_forged_is_refused(app, client, add_user):
    add_user("alice", role="author")
    give_passkey(app, credential_id="a2V5LTE")
    forged = json.dumps({"id": "a2V5LTE", "rawId": "a2V5LTE", "type": "public-key", "response": {
        "clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"}})  # fmt: skip

    unasked = client.post("/login/passkey", data={"credential": forged})
    client.post("/login/passkey/options")
    asked = client.post("/login/passkey", data={"credential": forged})
    again = client.post("/login/passkey", data={"credential": forged})  # the challenge is used

    assert unasked.status_code == 400 and "expired" in unasked.get_json()["error"]
    assert asked.status_code == 400 and "did not prove it" in asked.get_json()["error"]
    assert again.status_code == 400 and "expired" in again.get_json()["error"]
    assert client.get("/admin/").status_code == 302
    assert len(lines(app, "login-failed")) == 3


def test_failed_passkeys_count_against_the_address(app, client):
    for _ in range(10):
        client.post("/login/passkey/options")
        client.post("/login/passkey", data={"credential": "{}"})

    client.post("/login/passkey/options")
    answer = client.post("/login/passkey", data={"credential": "{}"})

    assert answer.status_code == 429 and "Too many failed logins" in answer.get_json()["error"]


def test_the_options_name_this_site_and_only_the_accounts_keys(app, client, auth, add_user):
    add_user("alice", role="author")
    add_user("bob", role="author")
    give_passkey(app, "alice", "YWxpY2U")
    give_passkey(app, "bob", "Ym9i")
    auth.login("alice")

    options = client.post("/login/two-factor/passkey/options").get_json()
    anyone = app.test_client().post("/login/passkey/options").get_json()

    assert options["rpId"] == "localhost"  # the test client's host
    assert [key["id"] for key in options["allowCredentials"]] == ["YWxpY2U"]
    assert anyone["allowCredentials"] == [] and anyone["userVerification"] == "required"


def test_removing_a_passkey_asks_for_the_password(app, client, auth, add_user):
    add_user("alice", role="author")
    give_passkey(app)
    with app.app_context():
        key_id = db.session.scalar(db.select(Passkey.id))
        user_id = db.session.scalar(db.select(User.id).where(User.username == "alice"))
        db.session.execute(db.update(User).values(totp_secret=None))
        db.session.commit()
    # Log in as the owner without a second step (the session is set as a login would).
    with client.session_transaction() as session:
        with app.app_context():
            session["_user_id"] = db.session.get(User, user_id).get_id()

    kept = client.post(f"/admin/profile/passkeys/{key_id}/delete", data={"password": "nope"})
    with app.app_context():
        assert db.session.get(Passkey, key_id) is not None
    removed = client.post(f"/admin/profile/passkeys/{key_id}/delete",
                          data={"password": "password123"})  # fmt: skip

    assert kept.status_code == 302 and removed.status_code == 302
    with app.app_context():
        assert db.session.get(Passkey, key_id) is None
        assert db.session.scalar(db.select(db.func.count(RecoveryCode.id))) == 0  # none left
    assert lines(app, "passkey-removed") == ["Phone"]
    assert AuthActions(app.test_client()).login().headers["Location"] == "/admin/"


@pytest.mark.config(ACCOUNTS={"require_two_factor": ["author"]})
def test_a_passkey_meets_a_rule_that_requires_two_factor(app, client, add_user):
    add_user("alice", role="author")
    give_passkey(app)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "alice"))
        session_id, key_id = user.get_id(), db.session.scalar(db.select(Passkey.id))
    with client.session_transaction() as session:
        session["_user_id"] = session_id

    opened = client.get("/admin/")
    last_one = client.post(f"/admin/profile/passkeys/{key_id}/delete",
                           data={"password": "password123"})  # fmt: skip

    assert opened.status_code == 200  # not sent to set up the app
    assert last_one.status_code == 403
