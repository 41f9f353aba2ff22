"""Two-factor login: a code from an authenticator app (TOTP, RFC 6238), or a recovery code.

An account with two-factor on logs in in two steps: the password (blog/auth.py), then a
code. Between the two, the session holds only "this account's password was right, at
this time" (PENDING), never a login. A code is accepted once: the time step it belongs to
is remembered, so a code seen over a shoulder cannot be used again. Recovery codes
(RECOVERY_CODES of them, shown once) let the owner in without the phone; each works once
and only their hashes are kept.

`[accounts] require_two_factor` lists the roles that must use it (e.g. ["admin",
"editor"]): someone of such a role without it is sent to set it up before any other admin
page.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app, session
from markupsafe import Markup

from blog.database import db
from blog.models import Passkey, RecoveryCode, User, utcnow
from blog.security_log import record

ISSUER = "Pressroom"
RECOVERY_CODES = 10
PENDING = "two_factor_pending"  # session key: {"user", "generation", "remember", "next", "at"}
PENDING_SECONDS = 5 * 60  # time to type the code after the password
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def now() -> float:
    """The clock codes are read by (one place, so that tests can stop it)."""
    return time.time()


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(user: User, secret: str) -> str:
    """The otpauth:// address authenticator apps read from the QR code."""
    site = current_app.config["SITE"]["title"] or ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=site)


def qr_code(uri: str) -> Markup:
    """The address as an inline SVG QR code: made here, never by another site."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 -- segno's own SVG of our own address


def code_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step a 6-digit code belongs to (this one, or one either side for a clock a
    little off), if it is right and newer than `after`; else None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int(now()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * totp.interval), code) and step > (after or -1):
            return step
    return None


def accept_code(user: User, code: str) -> bool:
    """Whether `code` (from the app, once) lets `user` in; remembers its step. Not committed."""
    if not user.totp_secret:
        return False
    step = code_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the account's recovery codes with new ones; the codes, to show once."""
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Whether `code` is one of the account's unused recovery codes; uses it up."""
    found = db.session.scalar(
        db.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    found.used_at = utcnow()
    left = unused_recovery_codes(user) - 1
    record("recovery-code-used", user, detail=f"{left} left")
    return True


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


def turn_on(user: User, secret: str, step: int) -> list[str]:
    """The authenticator app on with `secret`, whose code of time `step` was just typed
    (it will not open a login); new recovery codes, unless a passkey made them already."""
    first = not has_second_factor(user)
    user.totp_secret = secret
    user.totp_last_step = step
    record("two-factor-on", user)
    return first_factor_added(user) if first else []


def turn_off(user: User, by_admin: bool = False) -> None:
    """The authenticator app off; by an admin (phone and codes lost), passkeys too."""
    user.totp_secret = None
    user.totp_last_step = None
    if by_admin:
        db.session.execute(db.delete(Passkey).where(Passkey.user_id == user.id))
    factor_removed(user)
    record("two-factor-off", user, detail="reset by an admin" if by_admin else "")


def factor_removed(user: User) -> None:
    """A second factor went (the app, a passkey): with none left, the recovery codes go
    too, since they stand in for a second step that no longer exists. Not committed."""
    db.session.flush()
    if not has_second_factor(user):
        db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def has_second_factor(user: User) -> bool:
    """An authenticator app, or a passkey (blog/passkeys.py): the password is not enough."""
    if user.totp_secret:
        return True
    return (
        db.session.scalar(db.select(Passkey.id).where(Passkey.user_id == user.id).limit(1))
        is not None
    )


def first_factor_added(user: User) -> list[str]:
    """The first second factor of `user` was just added: other sessions end (one opened
    before must not go on without it), and recovery codes are made; they are returned,
    to show once. Not committed."""
    from blog.accounts import end_sessions

    end_sessions(user)
    return new_recovery_codes(user)


def required_for(user: User) -> bool:
    """Whether the site requires two-factor of this account's role."""
    required = current_app.config.get("ACCOUNTS", {}).get("require_two_factor", [])
    return user.role in required


# The step between the password and the code, kept in the session.


def start(user: User, remember: bool, target: str | None) -> None:
    session.pop(PENDING, None)
    session[PENDING] = {
        "user": user.id,
        "generation": user.session_generation,
        "remember": bool(remember),
        "next": target,
        "at": int(now()),
    }


def pending_user() -> tuple[User, dict] | None:
    """The account whose password was right a moment ago, if the step is still open."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or now() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user") or 0)
    if user is None or not user.active or not has_second_factor(user):
        return None
    if pending.get("generation") != user.session_generation:
        return None  # logged out everywhere (or a new password) since the password step
    return user, pending
