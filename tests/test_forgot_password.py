"""Forgot your password? A single-use link that expires, emailed to a real SMTP server
(aiosmtpd on 127.0.0.1), with one answer whether or not the account exists."""

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

import pytest

from blog.database import db
from blog.models import SecurityEvent
from tests.conftest import AuthActions, run_jobs


@pytest.fixture
def mailing(app, smtp_server):
    port, messages = smtp_server
    app.config["MAIL"] = {**app.config["MAIL"], "host": "127.0.0.1", "port": port}
    return messages


def link_in(envelope) -> str:
    text = email.message_from_bytes(envelope.content, policy=email.policy.default).get_content()
    return re.search(r"http://blog\.test(/password/\S+)", text).group(1)


def ask(client, name):
    with client.post("/password/forgot", data={"username": name}) as answer:
        answer.get_data()
    run_jobs(client.application)  # closed: the email is queued once the answer is delivered
    return answer


def test_the_link_arrives_works_once_and_logs_in(app, client, add_user, mailing):
    add_user("alice", role="author")

    answer = ask(client, "ALICE@example.com")
    assert answer.status_code == 200 and "is on its way" in answer.text
    assert len(mailing) == 1 and mailing[0].rcpt_tos == ["alice@example.com"]
    link = link_in(mailing[0])
    chosen = client.post(link, data={"password": "a brand new passphrase",
                                     "confirm": "a brand new passphrase"})  # fmt: skip

    assert chosen.status_code == 302 and client.get("/admin/").status_code == 200
    assert app.test_client().get(link).status_code == 404  # it worked once
    assert (
        AuthActions(app.test_client()).login("alice", "a brand new passphrase").status_code == 302
    )
    with app.app_context():
        logged = db.session.scalars(db.select(SecurityEvent.event).order_by(SecurityEvent.id))
        assert logged.all() == ["password-link", "password-changed", "login", "login"]


def test_an_unknown_name_gets_the_same_answer_and_no_email(app, client, add_user, mailing):
    add_user("alice", role="author")

    known = ask(client, "alice")
    unknown = ask(app.test_client(), "nobody")

    assert known.text == unknown.text
    assert len(mailing) == 1


def test_the_link_expires_after_an_hour(app, client, add_user, mailing, monkeypatch):
    add_user("alice", role="author")
    ask(client, "alice")
    link = link_in(mailing[0])
    later = datetime.now(UTC) + timedelta(minutes=61)

    class Later(datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr("blog.auth.datetime", Later)

    assert client.get(link).status_code == 404


def test_a_link_from_a_mailbox_does_not_skip_the_second_factor(app, client, add_user, mailing):
    add_user("alice", role="author")
    with app.app_context():
        from blog.models import User

        db.session.execute(db.update(User).values(totp_secret="JBSWY3DPEHPK3PXP"))
        db.session.commit()
    ask(client, "alice")

    new = {"password": "a brand new passphrase", "confirm": "a brand new passphrase"}
    chosen = client.post(link_in(mailing[0]), data=new)

    assert chosen.headers["Location"] == "/login"
    assert client.get("/admin/").status_code == 302


def test_three_links_an_hour_for_an_account(app, client, add_user, mailing):
    add_user("alice", role="author")
    for _ in range(5):
        assert ask(client, "alice").status_code == 200

    assert len(mailing) == 3


def test_a_mail_server_that_is_down_does_not_show(app, client, add_user):
    add_user("alice", role="author")
    app.config["MAIL"] = {**app.config["MAIL"], "host": "127.0.0.1", "port": 9}  # nothing there

    answer = ask(client, "alice")

    assert answer.status_code == 200 and "is on its way" in answer.text


def test_without_a_mail_server_there_is_no_such_page(client):
    assert client.get("/password/forgot").status_code == 404
    assert "Forgot your password?" not in client.get("/login").text
