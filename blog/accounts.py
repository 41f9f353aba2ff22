"""Accounts: the one place where accounts are created and changed, and their rules.

The setup page, the admin's user pages, the profile page, password links, the CLI and
the WordPress importer all come through here, so a name, an email, a role and a
password obey the same rules wherever they are typed. The forms' validate_<field>
methods call the same check_* functions, so a form shows the very message the CLI prints.
"""

import functools
import re

from email_validator import EmailNotValidError, validate_email

from blog.caching import site_changed
from blog.database import db
from blog.models import ROLES, User
from blog.names import make_slug
from blog.security_log import record

USERNAME_MIN, USERNAME_MAX = 2, 60
PASSWORD_MIN, PASSWORD_MAX = 8, 200
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 120
_username = re.compile(r"[\w.-]+")
# An account that has no email (an imported author) gets an address of the reserved
# .invalid domain (RFC 2606): unique, never mailed, and never typed by a person.
NO_EMAIL_DOMAIN = "imported.invalid"


class AccountError(ValueError):
    """Account data that breaks a rule; `field` names it ("username", "email", …)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _others(user_id: int | None):
    query = db.select(User.id)
    return query.where(User.id != user_id) if user_id is not None else query


def check_username(name: str, user_id: int | None = None) -> str:
    """The name as it is stored (lower-case), or AccountError saying what is wrong."""
    name = (name or "").strip().lower()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        raise AccountError(
            "username", f"Use {USERNAME_MIN} to {USERNAME_MAX} characters for the user name."
        )
    if not _username.fullmatch(name):
        raise AccountError(
            "username", "Use letters, digits, dots, dashes or underscores, no spaces."
        )
    if db.session.scalar(_others(user_id).where(User.username == name).limit(1)):
        raise AccountError("username", f"That user name is taken: {name} exists already.")
    return name


def check_email(email: str, user_id: int | None = None) -> str:
    """The address as it is stored (lower-case), or AccountError."""
    email = (email or "").strip().lower()
    if not email:
        raise AccountError("email", "Give an email address.")
    if len(email) > EMAIL_MAX:
        raise AccountError("email", f"An email address has at most {EMAIL_MAX} characters.")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError("email", f"Invalid email address: {error}") from None
    if db.session.scalar(_others(user_id).where(User.email == email).limit(1)):
        raise AccountError("email", "An account with that email exists already.")
    return email


def check_role(role: str, user: User | None = None) -> str:
    if role not in ROLES:
        raise AccountError("role", f"Unknown role {role!r} (roles: {', '.join(ROLES)}).")
    if user is not None and user.is_admin and role != "admin" and is_last_admin(user):
        raise AccountError("role", "The site needs at least one admin.")
    return role


def check_password(password: str) -> str:
    """Long enough, and not one of the passwords guessers try first. No rules of
    composition (a digit, a capital): they make passwords harder to remember, not to guess
    (NIST SP 800-63B)."""
    if not PASSWORD_MIN <= len(password or "") <= PASSWORD_MAX:
        raise AccountError(
            "password", f"Use at least {PASSWORD_MIN} characters (at most {PASSWORD_MAX})."
        )
    if password.lower() in common_passwords():
        raise AccountError(
            "password",
            "That is one of the 30,000 commonest passwords, which guessers try first. "
            "Choose another: a few unrelated words make a good one.",
        )
    return password


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 passwords found most often in leaks, from zxcvbn's list (read on the
    first check: the module holds all of zxcvbn's dictionaries)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_last_admin(user: User) -> bool:
    """The only admin who can log in."""
    admins = db.session.scalar(
        db.select(db.func.count(User.id)).where(User.role == "admin", User.active)
    )
    return user.is_admin and user.active and admins <= 1


def end_sessions(user: User) -> None:
    """End every session and remember-me cookie of `user`, on every device: the session
    loader refuses an older generation (blog/auth.py). Not committed."""
    user.session_generation = (user.session_generation or 0) + 1


def set_active(user: User, active: bool) -> None:
    """Let the account log in, or not; disabling ends its sessions. Not committed."""
    if not active and is_last_admin(user):
        raise AccountError("active", "The site needs at least one admin who can log in.")
    if not active:
        end_sessions(user)
    if active != user.active:
        record("account-enabled" if active else "account-disabled", user)
    user.active = active


def username_from(text: str) -> str:
    """A name that follows the rules, made from a login typed elsewhere ("Ada Lovelace@home")."""
    name = "-".join(re.sub(r"[^\w.-]+", " ", text.lower()).split()).strip(".-")
    name = name[:USERNAME_MAX]
    # Too short ("j"): kept recognisable, and apart from any plain "author" account.
    return name if len(name) >= USERNAME_MIN else f"author-{name}".rstrip("-")


def create_account(
    username: str,
    email: str,
    role: str = "author",
    password: str | None = None,
    display_name: str = "",
) -> User:
    """Check and add an account; flushed, not committed (the caller owns the transaction).

    password None makes an account that cannot log in until it is given one through a
    password link (an imported author). email "" is allowed only then: the account gets
    a placeholder address of the .invalid domain.
    """
    username = check_username(username)
    if email or password is not None:
        email = check_email(email)
    else:
        email = f"{make_slug(username) or 'author'}@{NO_EMAIL_DOMAIN}"
    user = User(
        username=username,
        email=email,
        role=check_role(role),
        display_name=" ".join(display_name.split())[:DISPLAY_NAME_MAX],
    )
    if password is not None:
        user.set_password(check_password(password))
    db.session.add(user)
    db.session.flush()
    record("account-created", user, detail=f"role: {user.role}")
    site_changed()
    return user


def update_account(
    user: User,
    *,
    username: str | None = None,
    email: str | None = None,
    role: str | None = None,
    password: str | None = None,
    display_name: str | None = None,
) -> User:
    """Change what is given (None leaves a field as it is), by the same rules; not committed."""
    if username is not None:
        user.username = check_username(username, user.id)
    if email is not None and (email := check_email(email, user.id)) != user.email:
        record("email-changed", user, detail=f"{user.email} → {email}")
        user.email = email
    if role is not None and check_role(role, user) != user.role:
        record("role-changed", user, detail=f"{user.role} → {role}")
        end_sessions(user)  # a session must not keep the powers of the old role
        user.role = role
    if display_name is not None:
        user.display_name = " ".join(display_name.split())[:DISPLAY_NAME_MAX]
    if password:
        user.set_password(check_password(password))
        record("password-changed", user)
        end_sessions(user)  # a stolen session or cookie dies with the old password
    db.session.flush()
    site_changed()  # names are on pages
    return user
