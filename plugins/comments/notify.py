"""Email about new comments, when [plugins.comments] notify_emails names someone."""

import smtplib
from email.message import EmailMessage

from flask import current_app, url_for

from blog.plugin_api import site_url


def email_owner(comment, post, settings: dict) -> None:
    recipients = settings["notify_emails"]
    if not recipients:
        return
    message = EmailMessage()
    state = "awaiting moderation" if comment.status == "pending" else comment.status
    message["Subject"] = f"[{current_app.config['SITE']['title']}] New comment on “{post.title}”"
    message["From"] = settings["mail_from"]
    message["To"] = ", ".join(recipients)
    link = site_url() + url_for("posts.detail", slug=post.slug, _anchor=f"comment-{comment.id}")
    queue = site_url() + url_for("comments.queue")
    message.set_content(
        f"{comment.author_name} <{comment.author_email}> wrote ({state}):\n\n"
        f"{comment.body}\n\nRead it: {link}\nModerate: {queue}\n"
    )
    with smtplib.SMTP(settings["smtp_host"], settings["smtp_port"], timeout=10) as smtp:
        smtp.send_message(message)
