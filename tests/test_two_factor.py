"""Two-factor login: a code from an authenticator app after the password, recovery codes,
and a rule that some roles must use it. Codes are made with pyotp, as an app makes them."""

import re

import pyotp
import pytest

from blog.database import db
from blog.models import SecurityEvent, User
from tests.conftest import AuthActions

NOW = 1_800_000_015.0  # the middle of a 30-second step: no test crosses into the next


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch):
    monkeypatch.setattr("blog.two_factor.now", lambda: NOW)


def turn_on(client) -> tuple[str, list[str]]:
    """Set two-factor up through the profile, as a person would; (secret, recovery codes)."""
    page = client.get("/admin/profile/two-factor").text
    assert "<svg" in page  # the QR code, made here
    secret = re.search(r"<code>([A-Z2-7 ]+)</code>", page).group(1).replace(" ", "")
    done = client.post("/admin/profile/two-factor", data={"code": code_after(secret)})
    assert done.status_code == 200, done.text
    assert done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes


def code_after(secret: str, seconds: int = 0) -> str:
    """The code an app shows `seconds` after the tests' stopped clock."""
    return pyotp.TOTP(secret).at(NOW + seconds)


def events(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(db.select(SecurityEvent.event).order_by(SecurityEvent.id)).all()


@pytest.fixture
def alice(app, client, auth, add_user):
    add_user("alice", role="author")
    auth.login()
    return client


def test_the_password_alone_no_longer_opens_the_admin(app, alice):
    secret, _ = turn_on(alice)
    thief = app.test_client()

    step = AuthActions(thief).login()

    assert step.status_code == 302 and step.headers["Location"] == "/login/two-factor"
    assert thief.get("/admin/").status_code == 302  # not logged in yet
    wrong = thief.post("/login/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    setup_code = code_after(secret)  # typed at the setup: it will not open a login
    assert thief.post("/login/two-factor", data={"code": setup_code}).status_code == 422
    right = thief.post("/login/two-factor", data={"code": code_after(secret, 30)})
    assert right.status_code == 302 and thief.get("/admin/").status_code == 200


def test_turning_it_on_ends_every_other_session(app, alice, auth):
    elsewhere = app.test_client()
    AuthActions(elsewhere).login()
    assert elsewhere.get("/admin/").status_code == 200

    turn_on(alice)

    assert elsewhere.get("/admin/").status_code == 302  # it had no second step
    assert alice.get("/admin/").status_code == 200  # this one goes on


def test_a_code_works_once(app, alice):
    secret, _ = turn_on(alice)
    code = code_after(secret, 30)  # the next step's: the one the setup did not use
    first, second = app.test_client(), app.test_client()
    AuthActions(first).login()
    AuthActions(second).login()

    assert first.post("/login/two-factor", data={"code": code}).status_code == 302
    assert second.post("/login/two-factor", data={"code": code}).status_code == 422


def test_a_recovery_code_works_once_instead_of_the_app(app, alice):
    _, codes = turn_on(alice)
    browser = app.test_client()
    AuthActions(browser).login()

    used = browser.post("/login/two-factor", data={"code": codes[3].upper()})
    again = app.test_client()
    AuthActions(again).login()
    reused = again.post("/login/two-factor", data={"code": codes[3]})

    assert used.status_code == 302 and browser.get("/admin/").status_code == 200
    assert reused.status_code == 422
    assert "9 recovery codes are left" in browser.get("/admin/profile/two-factor").text
    assert "recovery-code-used" in events(app)


def test_five_wrong_codes_and_the_account_waits(app, alice):
    secret, _ = turn_on(alice)
    guesser = app.test_client()
    AuthActions(guesser).login()
    for guess in range(5):
        assert guesser.post("/login/two-factor", data={"code": f"{guess:06d}"}).status_code == 422

    blocked = guesser.post("/login/two-factor", data={"code": code_after(secret, 30)})

    assert blocked.status_code == 429 and "Too many wrong codes" in blocked.text
    assert events(app).count("two-factor-failed") == 5
    assert "login-throttled" in events(app)


def test_the_step_between_password_and_code_expires(app, alice, monkeypatch):
    secret, _ = turn_on(alice)
    browser = app.test_client()
    AuthActions(browser).login()
    later = NOW + 6 * 60
    monkeypatch.setattr("blog.two_factor.now", lambda: later)

    late = browser.post("/login/two-factor", data={"code": pyotp.TOTP(secret).at(later)})

    assert late.status_code == 302 and late.headers["Location"] == "/login"


def test_logging_out_everywhere_ends_a_half_done_login(app, alice):
    secret, _ = turn_on(alice)
    thief = app.test_client()
    AuthActions(thief).login()  # the password was stolen too

    alice.post("/admin/profile/sessions")  # the owner notices
    answer = thief.post("/login/two-factor", data={"code": code_after(secret, 30)})

    assert answer.headers["Location"] == "/login"
    assert thief.get("/admin/").status_code == 302


def test_new_codes_and_turning_off_ask_for_the_password(app, alice):
    secret, codes = turn_on(alice)

    refused = alice.post("/admin/profile/two-factor/manage", data={"password": "nope",
                                                                   "action": "off"})  # fmt: skip
    renewed = alice.post("/admin/profile/two-factor/manage", data={"password": "password123",
                                                                   "action": "codes"})  # fmt: skip
    fresh = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", renewed.text)
    off = alice.post("/admin/profile/two-factor/manage", data={"password": "password123",
                                                               "action": "off"})  # fmt: skip

    assert refused.status_code == 302 and "recovery-codes-made" in events(app)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert off.status_code == 302
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "alice"))
        assert user.totp_secret is None
    assert AuthActions(app.test_client()).login().headers["Location"] == "/admin/"


@pytest.mark.config(ACCOUNTS={"require_two_factor": ["admin", "editor"]})
def test_a_site_can_require_it_of_admins_and_editors(app, client, auth, add_user):
    add_user("eve", role="editor")
    add_user("amy", role="author")
    auth.login("eve")

    sent_to_setup = client.get("/admin/")
    secret, _ = turn_on(client)
    cannot_turn_off = client.post("/admin/profile/two-factor/manage", data={
        "password": "password123", "action": "off"})  # fmt: skip
    author = app.test_client()
    AuthActions(author).login("amy")

    assert sent_to_setup.headers["Location"] == "/admin/profile/two-factor"
    assert client.get("/admin/").status_code == 200  # set up: the admin opens
    assert cannot_turn_off.status_code == 403
    assert author.get("/admin/").status_code == 200  # not required of authors


def test_an_admin_resets_it_for_someone_who_lost_everything(app, alice, add_user):
    turn_on(alice)
    add_user("ada", role="admin")
    admin = app.test_client()
    AuthActions(admin).login("ada")
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).where(User.username == "alice"))
    page = admin.get(f"/admin/users/{user_id}/").text
    admin.post(f"/admin/users/{user_id}/two-factor/reset")

    assert "Turn it off for alice" in page and "(an app)" in page
    assert AuthActions(app.test_client()).login().headers["Location"] == "/admin/"
    assert events(app)[-2:] == ["two-factor-off", "login"]


def test_the_setting_names_roles(tmp_path, monkeypatch):
    from blog.config import ConfigError, parse

    with pytest.raises(ConfigError, match="accounts.require_two_factor lists roles"):
        parse({"accounts": {"require_two_factor": ["boss"]}}, "config.toml", str(tmp_path))
    parsed = parse({"accounts": {"require_two_factor": ["admin"]}}, "config.toml", str(tmp_path))
    assert parsed["ACCOUNTS"] == {"require_two_factor": ["admin"]}
