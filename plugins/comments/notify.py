"""Email about new comments, when [plugins.comments] notify_emails names someone: queued
(blog/mail.py), so that the commenter never waits for the mail server, and a mail server
that is down delays the email rather than losing it."""

from email.message import EmailMessage

from flask import current_app, url_for

from blog.plugin_api import send_later, site_url


def email_owner(comment, post, settings: dict) -> None:
    recipients = settings["notify_emails"]
    if not recipients:
        return
    message = EmailMessage()
    state = "awaiting moderation" if comment.status == "pending" else comment.status
    message["Subject"] = f"[{current_app.config['SITE']['title']}] New comment on “{post.title}”"
    site_mail = current_app.config["MAIL"]
    message["From"] = site_mail["from"] if site_mail["host"] else settings["mail_from"]
    message["To"] = ", ".join(recipients)
    link = site_url() + url_for("posts.detail", slug=post.path, _anchor=f"comment-{comment.id}")
    queue = site_url() + url_for("comments.queue")
    message.set_content(
        f"{comment.author_name} <{comment.author_email}> wrote ({state}):\n\n"
        f"{comment.body}\n\nRead it: {link}\nModerate: {queue}\n"
    )
    # The site's [mail] server when it has one; else this plugin's own smtp_host and port.
    own = {"host": settings["smtp_host"], "port": settings["smtp_port"], "security": "none",
           "username": ""}  # fmt: skip
    send_later(message, None if site_mail["host"] else own)
