"""Logging in and out, the one-time owner setup, and who may do what."""

import functools
import hashlib
import hmac
import math
import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from blog import config, mail, passkeys, two_factor
from blog.accounts import NO_EMAIL_DOMAIN, create_account, end_sessions, update_account
from blog.arguments import as_id
from blog.database import db
from blog.forms import (
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    SetupForm,
    TwoFactorCodeForm,
)
from blog.models import User
from blog.proxy import site_url
from blog.security_log import record, record_failed_login
from blog.throttle import throttle

bp = Blueprint("auth", __name__)
# Failed logins allowed before the form refuses to check passwords for a while. An account
# counts as one under any spelling (name or email). Slow the guesser, never the owner:
# - from one address, on any accounts (one machine guessing many accounts);
LOGIN_FAILURES_PER_ADDRESS = "10/15minutes"
# - from one address, on one account;
LOGIN_FAILURES_PER_ACCOUNT_FROM_ADDRESS = "5/15minutes"
# - on one account from everywhere (a spread-out botnet): past it, an address that has
#   failed on the account waits; one that has not (the owner, somewhere new) may still try.
LOGIN_FAILURES_PER_ACCOUNT = "50/hour"
# Wrong two-factor codes, per account (the password was right: this is the owner, or a
# thief with the password).
TWO_FACTOR_FAILURES = "5/15minutes"
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user a session or remember-me cookie names, while its generation is current
    and the account is enabled; else nobody (the session has been ended)."""
    user_id, _, generation = session_id.partition(":")
    user_id = as_id(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active or generation != str(user.session_generation):
        return None
    return user


def init_app(app) -> None:
    login_manager.init_app(app)
    app.register_blueprint(bp)


def role_required(*roles):
    """Let only logged-in users with one of `roles` through; others get 403."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative `//`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(char) < 32 for char in target):
        return False  # browsers read "/\evil.example" as "//evil.example"
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def find_user(name_or_email: str) -> User | None:
    lowered = name_or_email.strip().lower()
    return db.session.scalar(
        db.select(User).where((User.username == lowered) | (User.email == lowered))
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    if form.validate_on_submit():
        name = form.username.data.strip().lower()
        address = request.remote_addr or "unknown"
        user = find_user(name)
        account = f"user:{user.id}" if user else f"name:{name}"
        limits = throttle()
        counted = (
            (LOGIN_FAILURES_PER_ADDRESS, ("login", address)),
            (LOGIN_FAILURES_PER_ACCOUNT_FROM_ADDRESS, ("login", account, address)),
            (LOGIN_FAILURES_PER_ACCOUNT, ("login", account)),
        )
        failed_here = limits.count(LOGIN_FAILURES_PER_ACCOUNT_FROM_ADDRESS, *counted[1][1])
        exhausted = [
            (rule, keys)
            for rule, keys in counted
            if not limits.allows(rule, *keys)
            and (rule != LOGIN_FAILURES_PER_ACCOUNT or failed_here)
        ]
        if exhausted:
            record_failed_login(name, user, throttled=True)
            wait = max(limits.retry_after(rule, *keys) for rule, keys in exhausted)
            form.password.errors.append(
                f"Too many failed logins. Try again in {math.ceil(wait / 60)} minute(s)."
            )
            return render_template("auth/login.html", form=form), 429
        # Nobody by that name: checked against a stand-in, as slow as a wrong password.
        if not (user or User()).check_password(form.password.data) or user is None:
            for rule, keys in counted:
                limits.hit(rule, *keys)
            record_failed_login(name, user, throttled=False)
            # One message for both cases, so the form does not reveal who has an account.
            form.password.errors.append("Wrong user name or password.")
        elif not user.active:
            record_failed_login(name, user, throttled=False, detail="the account is disabled")
            form.password.errors.append("This account is disabled; an admin can enable it.")
        elif two_factor.has_second_factor(user):  # the password alone does not open the admin
            two_factor.start(user, form.remember.data, request.args.get("next"))
            return redirect(url_for("auth.second_factor"))
        else:
            return finish_login(user, form.remember.data, request.args.get("next"))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


def log_in(user: User, remember: bool, target: str | None, how: str = "") -> str:
    """Log `user` in (every check passed); where to go next."""
    session.pop("csrf_token", None)  # a token seen before the login is no use after
    login_user(user, remember=remember)
    record("login", user, detail=", ".join(filter(None, [how, remember and "remember me"])))
    db.session.commit()
    return target if is_safe_next(target) else url_for("admin.index")


def finish_login(user: User, remember: bool, target: str | None, how: str = ""):
    return redirect(log_in(user, remember, target, how))


def passkey_failed(error: Exception, user: User | None):
    """A passkey that proved nothing: counted against the address, logged, said."""
    db.session.rollback()
    throttle().hit(LOGIN_FAILURES_PER_ADDRESS, "login", request.remote_addr or "unknown")
    record_failed_login(user.username if user else "", user, throttled=False,
                        detail=f"passkey: {error}")  # fmt: skip
    return jsonify(error=str(error)), 400


def passkey_refused():
    """JSON 429 while the address waits after failed logins; else None."""
    limits, address = throttle(), request.remote_addr or "unknown"
    if limits.allows(LOGIN_FAILURES_PER_ADDRESS, "login", address):
        return None
    wait = math.ceil(limits.retry_after(LOGIN_FAILURES_PER_ADDRESS, "login", address) / 60)
    return jsonify(error=f"Too many failed logins. Try again in {wait} minute(s)."), 429


@bp.route("/login/passkey/options", methods=["POST"])
def passkey_login_options():
    """Log in with a passkey alone: any key of this site the device holds (JSON)."""
    options = passkeys.authentication_options(None)
    return options, {"Content-Type": "application/json", "Cache-Control": "no-store"}


@bp.route("/login/passkey", methods=["POST"])
def passkey_login():
    """A passkey that checked its person is both factors: no password, no code."""
    refused = passkey_refused()
    if refused:
        return refused
    try:
        user = passkeys.authenticate(request.form.get("credential", ""), None)
    except passkeys.PasskeyError as error:
        return passkey_failed(error, None)
    return jsonify(redirect=log_in(user, False, request.args.get("next"), "passkey"))


@bp.route("/login/two-factor/passkey/options", methods=["POST"])
def second_factor_passkey_options():
    pending = two_factor.pending_user()
    if pending is None:
        return jsonify(error="Log in again: the time for the second step ran out."), 400
    options = passkeys.authentication_options(pending[0])
    return options, {"Content-Type": "application/json", "Cache-Control": "no-store"}


@bp.route("/login/two-factor/passkey", methods=["POST"])
def second_factor_passkey():
    """The second step with one of the account's passkeys instead of a code."""
    pending = two_factor.pending_user()
    if pending is None:
        return jsonify(error="Log in again: the time for the second step ran out."), 400
    user, step = pending
    refused = passkey_refused()
    if refused:
        return refused
    try:
        passkeys.authenticate(request.form.get("credential", ""), user)
    except passkeys.PasskeyError as error:
        return passkey_failed(error, user)
    session.pop(two_factor.PENDING, None)
    return jsonify(redirect=log_in(user, step["remember"], step["next"], "passkey"))


@bp.route("/login/two-factor", methods=["GET", "POST"])
def second_factor():
    """The second step of a login with two-factor on: a code from the app, or a recovery
    code. Wrong codes are counted per account: a stolen password alone gets five tries
    in 15 minutes, which cannot find one code in a million."""
    pending = two_factor.pending_user()
    if pending is None:
        flash("Log in again: the time to type the code ran out.", "info")
        return redirect(url_for("auth.login"))
    user, step = pending
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        limits, keys = throttle(), ("two-factor", f"user:{user.id}")
        if not limits.allows(TWO_FACTOR_FAILURES, *keys):
            record_failed_login(user.username, user, throttled=True, detail="two-factor code")
            wait = math.ceil(limits.retry_after(TWO_FACTOR_FAILURES, *keys) / 60)
            form.code.errors.append(f"Too many wrong codes. Try again in {wait} minute(s).")
            return render_template(
                "auth/two_factor.html", form=form, user=user, keys=passkeys.keys_of(user)
            ), 429
        code = form.code.data.strip()
        how = (
            "two-factor"
            if two_factor.accept_code(user, code)
            else "recovery code"
            if two_factor.use_recovery_code(user, code)
            else None
        )
        if how:
            session.pop(two_factor.PENDING, None)
            return finish_login(user, step["remember"], step["next"], how)
        limits.hit(TWO_FACTOR_FAILURES, *keys)
        record("two-factor-failed", user)
        db.session.commit()
        form.code.errors.append("That code is not right (or was used already).")
    return render_template(
        "auth/two_factor.html", form=form, user=user, keys=passkeys.keys_of(user)
    ), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out here and everywhere: a copy of this session or of the remember-me cookie,
    wherever it went, ends too."""
    if current_user.is_authenticated:
        end_sessions(current_user)
        record("logout", current_user._get_current_object())
        db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("posts.home"))


def setup_token(app) -> str:
    """The secret of the /setup link: derived from the secret key, so every worker agrees."""
    key = app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"pressroom-setup", hashlib.sha256).hexdigest()[:32]


def needs_setup() -> bool:
    return db.session.scalar(db.select(User.id).limit(1)) is None


def setup_link_base(app) -> str:
    """Where the owner will open the setup link: while [site] url is still the default,
    the address `flask run` serves (`make run HOST=... PORT=...` passes it on)."""
    url = app.config["SITE"]["url"]
    port = os.environ.get("FLASK_RUN_PORT")
    if not port or url != config.SITE_DEFAULTS["url"]:
        return url
    host = os.environ.get("FLASK_RUN_HOST", "127.0.0.1")
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"  # noqa: S104


def announce_setup_link(app) -> None:
    """On a fresh site, print the one-time link that creates the owner's account."""
    with app.app_context():
        try:
            if not inspect(db.engine).has_table("user") or not needs_setup():
                return
        except SQLAlchemyError:
            return  # no database yet: `flask db upgrade` comes first
        link = f"{setup_link_base(app)}/setup?token={setup_token(app)}"
        click.secho(f"No account yet. Create the owner's account at: {link}", err=True, bold=True)


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the first (admin) account; gone once any account exists."""
    if not needs_setup():
        abort(404)
    token = request.args.get("token", "")
    if not hmac.compare_digest(token, setup_token(current_app)):
        abort(404)
    form = SetupForm(site_title=current_app.config["SITE"]["title"])
    if form.validate_on_submit():
        owner = create_account(
            form.username.data, form.email.data, role="admin", password=form.password.data
        )
        db.session.commit()
        config.save_site_settings(current_app, {"title": form.site_title.data.strip()})
        login_user(owner)
        flash("Welcome! Your blog is ready. Write your first post.", "success")
        return redirect(url_for("admin.new_post"))
    return render_template("auth/setup.html", form=form), 200 if not form.errors else 422


PASSWORD_LINK_DAYS = 3


def _password_links() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="pressroom-password")


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes, every earlier link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def password_link(user: User, minutes: int | None = None) -> str:
    """An absolute link letting `user` choose a password; valid once, for PASSWORD_LINK_DAYS
    (an admin hands it over) or `minutes` (emailed on request)."""
    claims = {"id": user.id, "f": _password_fingerprint(user)}
    if minutes:
        claims["minutes"] = minutes
    token = _password_links().dumps(claims)
    return f"{site_url()}/password/{token}"  # also made by the CLI


def user_of_password_link(token: str) -> User | None:
    """The account a password link is for, while it works: signed here, not expired, and
    the password unchanged since it was made (so it works once)."""
    try:
        data, made = _password_links().loads(
            token, max_age=PASSWORD_LINK_DAYS * 24 * 3600, return_timestamp=True
        )
        user = db.session.get(User, int(data["id"]))
        minutes = int(data.get("minutes", 0))
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if minutes and (datetime.now(UTC) - made).total_seconds() > minutes * 60:
        return None
    if user is None or not hmac.compare_digest(str(data.get("f")), _password_fingerprint(user)):
        return None
    return user


FORGOT_LINK_MINUTES = 60
# Links asked for: per address (someone trying names), and per account (a flood of mail).
FORGOT_PER_ADDRESS = "10/hour"
FORGOT_PER_ACCOUNT = "3/hour"


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Email a password link to an account's owner. The answer is the same whether or not
    the account exists, and is sent before the email is (blog/mail.py)."""
    if not mail.configured():
        abort(404)
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot_password.html", form=form), (
            422 if form.errors else 200
        )
    limits, address = throttle(), request.remote_addr or "unknown"
    if not limits.hit(FORGOT_PER_ADDRESS, "forgot", address):
        form.username.errors.append("Too many links asked for from here. Try again later.")
        return render_template("auth/forgot_password.html", form=form), 429
    user = find_user(form.username.data)
    response = make_response(
        render_template("auth/forgot_password.html", sent=True, minutes=FORGOT_LINK_MINUTES)
    )
    if user is None or not user.active or user.email.endswith(NO_EMAIL_DOMAIN):
        return response
    if not limits.hit(FORGOT_PER_ACCOUNT, "forgot", f"user:{user.id}"):
        return response  # said once already, three times an hour: no flood of mail
    link = password_link(user, minutes=FORGOT_LINK_MINUTES)
    record("password-link", user, detail=f"asked for on the login page, {FORGOT_LINK_MINUTES} min")
    db.session.commit()
    text = (
        f"Someone (we hope you) asked to choose a new password for {user.username} on "
        f"{site_url()}.\n\nChoose it here (the link works once, "
        f"for {FORGOT_LINK_MINUTES} minutes):\n{link}\n\nNot you? Ignore this email: "
        "your password stays as it is.\n"
    )
    mail.send_after(response, mail.message(user.email, "Choose a new password", text))
    return response


@bp.route("/password/<token>", methods=["GET", "POST"])
def choose_password(token):
    """Where a password link leads: an imported author, or one who forgot, picks one."""
    user = user_of_password_link(token)
    if user is None:
        return render_template("auth/password_link_expired.html", days=PASSWORD_LINK_DAYS), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        update_account(user, password=form.password.data)
        db.session.commit()
        if two_factor.has_second_factor(user):  # a link from a mailbox is one factor only
            flash("Your password is set. Log in with it and your second factor.", "success")
            return redirect(url_for("auth.login"))
        flash("Your password is set.", "success")
        return finish_login(user, False, None, "password link")
    return render_template("auth/choose_password.html", form=form, user=user), (
        422 if form.errors else 200
    )
