"""Email the site sends (a password link, plugins' notifications), through the SMTP server
`[mail]` names. Off until `[mail] host` is set.

Every message goes out through the job queue (blog/jobs.py, task "mail.send"): never
inside a reader's request, and a mail server that is down delays a message (the job is
tried again, with backoff) instead of losing it. send_later() queues it with the
transaction in hand; send_after() queues it once the answer has reached the browser, so
that even the queueing never shows in the answer's timing ("forgot password" answers
alike whether or not an account exists).
"""

import email
import email.policy
import os
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

from blog.database import db
from blog.jobs import enqueue, task

SECURITY = ("none", "starttls", "tls")
TIMEOUT = 10


def configured() -> bool:
    return bool(current_app.config.get("MAIL", {}).get("host"))


def message(to: str, subject: str, text: str) -> EmailMessage:
    settings = current_app.config["MAIL"]
    mail = EmailMessage()
    mail["Subject"] = f"[{current_app.config['SITE']['title']}] {subject}"
    mail["From"] = settings["from"]
    mail["To"] = to
    mail.set_content(text)
    return mail


def send(mail: EmailMessage, settings: dict) -> None:
    """Send now (raises on failure): plain, STARTTLS or TLS as `security` says, logged in
    as `username` with the password from MAIL_PASSWORD when a username is set."""
    host, port, security = settings["host"], settings["port"], settings["security"]
    context = ssl.create_default_context()
    if security == "tls":
        connection = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=TIMEOUT)
    with connection as smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if settings.get("username"):
            smtp.login(settings["username"], os.environ.get("MAIL_PASSWORD", ""))
        smtp.send_message(mail)


@task("mail.send")
def send_queued(message: str, server: dict | None = None) -> None:
    """The job: send `message` (as text) through `server`, else the [mail] settings now in
    force (a password never travels in the queue: MAIL_PASSWORD is read here)."""
    settings = {**current_app.config["MAIL"], **(server or {})}
    if not settings.get("host"):
        raise RuntimeError("[mail] host is not set: nothing can be sent")
    send(email.message_from_string(message, policy=email.policy.default), settings)


def send_later(mail: EmailMessage, server: dict | None = None) -> None:
    """Queue `mail`; it goes once this transaction commits. `server` overrides [mail]'s
    host, port, security and username (a plugin's own SMTP settings)."""
    enqueue("mail.send", message=mail.as_string(), server=server)


def send_after(response, mail: EmailMessage) -> None:
    """Queue `mail` once `response` has been delivered."""
    app = current_app._get_current_object()

    def queue_it():
        with app.app_context():
            try:
                send_later(mail)
                db.session.commit()
            except Exception:
                db.session.rollback()
                app.logger.exception("could not queue an email to %s", mail["To"])

    response.call_on_close(queue_it)
