"""Email the site sends itself (a password link asked for on the login page), through the
SMTP server `[mail]` names. Off until `[mail] host` is set.

A message goes out after its answer has reached the browser (Werkzeug's call_on_close),
so that how long the mail server takes never shows in the answer: "forgot password"
answers alike whether or not an account exists. A message that cannot be sent is
logged. (Moving it to the job queue, which retries, is the self-hosting issue's.)
"""

import os
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

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


def send_after(response, mail: EmailMessage) -> None:
    """Send `mail` once `response` has been delivered."""
    app = current_app._get_current_object()
    settings = dict(app.config["MAIL"])

    def deliver():
        try:
            send(mail, settings)
        except (OSError, smtplib.SMTPException) as error:
            app.logger.error("could not email %s: %s", mail["To"], error)

    response.call_on_close(deliver)
