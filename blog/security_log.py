"""The admins' security log: logins, failures, lockouts, account changes, exports,
imports, settings and plugins, each with who, from where and when.

Every line is written through `record`, in the transaction of the change it describes,
so a change that is rolled back leaves no line and a line never names a change that did
not happen. A failed login changes nothing else: it commits its own line. Failed logins
are the one kind a stranger can make in numbers: lines of them older than
FAILURES_KEPT_DAYS are dropped as new ones arrive; every other kind is kept.
"""

from datetime import timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from blog.database import db
from blog.models import SecurityEvent, User, utcnow

# What each event is called on the admin's page, in the order its filter lists them.
EVENTS = {
    "login": "Logged in",
    "login-failed": "Wrong user name or password",
    "login-throttled": "Login refused: too many failures",
    "logout": "Logged out",
    "account-created": "Account created",
    "password-changed": "Password changed",
    "password-link": "Password link made",
    "role-changed": "Role changed",
    "email-changed": "Email changed",
    "sessions-ended": "Logged out everywhere",
    "two-factor-on": "Two-factor login turned on",
    "two-factor-off": "Two-factor login turned off",
    "two-factor-failed": "Wrong two-factor code",
    "recovery-code-used": "Recovery code used",
    "recovery-codes-made": "New recovery codes made",
    "passkey-added": "Passkey added",
    "passkey-removed": "Passkey removed",
    "account-disabled": "Account disabled",
    "account-enabled": "Account enabled",
    "export": "Site exported",
    "import": "WordPress export imported",
    "settings-changed": "Settings changed",
    "plugins-changed": "Plugins changed",
}
FAILURES_KEPT_DAYS = 90
DETAIL_MAX = 500


def record(event: str, account: User | None = None, account_name: str = "", detail: str = ""):
    """Add a line to the log, in the caller's transaction (not committed).

    The actor is the logged-in user of the request, if any; the address is the request's
    (the command line has neither).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown security event {event!r} (add it to EVENTS)")
    actor = None
    if has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    db.session.add(
        SecurityEvent(
            event=event,
            actor_id=actor.id if actor else None,
            actor_name=actor.username if actor else "",
            account_id=account.id if account else None,
            account_name=(account_name or (account.username if account else ""))[:254],
            address=(request.remote_addr or "")[:45] if has_request_context() else "",
            detail=detail[:DETAIL_MAX],
        )
    )


def record_failed_login(
    name_tried: str, account: User | None, throttled: bool, detail: str = ""
) -> None:
    """A wrong password, or a try refused by the throttle; committed at once. The name
    is kept as typed (an account that does not exist is worth knowing about too)."""
    event = "login-throttled" if throttled else "login-failed"
    record(event, account, account_name=name_tried, detail=detail)
    cutoff = utcnow() - timedelta(days=FAILURES_KEPT_DAYS)
    db.session.execute(
        db.delete(SecurityEvent).where(
            SecurityEvent.event.in_(("login-failed", "login-throttled")),
            SecurityEvent.created_at < cutoff,
        )
    )
    db.session.commit()


def record_plugin_changes(app) -> None:
    """At start-up: if the enabled plugins differ from those the log last saw (the owner
    edited config.toml), say which came and went. Workers starting together may each
    write the same line; a database not made yet is left alone."""
    with app.app_context():
        try:
            if inspect(db.engine).has_table(SecurityEvent.__tablename__):
                _record_plugin_changes(list(app.config["PLUGINS"]["enabled"]))
        except SQLAlchemyError:
            db.session.rollback()  # not reachable yet: the first request will say so


def _record_plugin_changes(enabled: list[str]) -> None:
    last = db.session.scalar(
        db.select(SecurityEvent.detail)
        .where(SecurityEvent.event == "plugins-changed")
        .order_by(SecurityEvent.id.desc())
        .limit(1)
    )
    before = last.partition("enabled: ")[2].split(", ") if last else []
    before = [name for name in before if name]
    if last is not None and before == enabled:
        return
    added = [name for name in enabled if name not in before]
    removed = [name for name in before if name not in enabled]
    changes = [f"+{name}" for name in added] + [f"-{name}" for name in removed]
    listed = ", ".join(enabled)
    record("plugins-changed", detail=f"{' '.join(changes) or 'none'}; enabled: {listed}")
    db.session.commit()
