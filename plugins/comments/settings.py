"""The comments plugin's [plugins.comments] settings and their defaults (listed in
the plugin's docstring)."""

from blog.plugin_api import plugin_config

MODERATION = ("all", "new_authors", "none")
DEFAULTS = {
    "moderation": "new_authors",
    "thread_depth": 3,
    "comments_per_page": 0,
    "close_after_days": 0,
    "min_seconds": 3,
    "rate_limit": "5/minute",
    "max_links": 2,
    "max_length": 5000,
    "blocklist": [],
    "notify_emails": [],
    "smtp_host": "127.0.0.1",
    "smtp_port": 25,
    "mail_from": "pressroom@localhost",
}


def settings() -> dict:
    return plugin_config("comments", **DEFAULTS)
