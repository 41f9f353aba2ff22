"""How people log in: two-factor login on the profile, an admin's reset of it, the rule
that some roles must use it, and the admins' security log."""

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from blog import passkeys, two_factor
from blog.admin.blueprint import bp
from blog.auth import role_required
from blog.database import db
from blog.forms import ButtonForm, PasswordCheckForm, SetupCodeForm
from blog.models import Passkey, SecurityEvent, User
from blog.paging import page_of
from blog.security_log import EVENTS, FAILURES_KEPT_DAYS, record

SECURITY_LOG_PAGE = 50
BEING_SET_UP = "two_factor_setup"  # session key: the app secret being set up (shown anyway)
# What someone who must set up two-factor may still open before doing so.
OPEN_BEFORE_SETUP = {"admin.two_factor", "admin.end_my_sessions", "admin.profile",
                     "admin.passkey_options", "admin.add_passkey"}  # fmt: skip


@bp.before_request
def require_two_factor():
    """Send someone whose role must log in with two factors to set it up, first."""
    user = current_user
    if (
        user.is_authenticated
        and two_factor.required_for(user)
        and request.endpoint not in OPEN_BEFORE_SETUP
        and not two_factor.has_second_factor(user)
    ):
        return redirect(url_for("admin.two_factor"))
    return None


@bp.route("/profile/two-factor", methods=["GET", "POST"], endpoint="two_factor")
def two_factor_page():
    """Set up two-factor login (scan, type a code, keep the recovery codes), or manage it."""
    user = current_user._get_current_object()
    required = two_factor.required_for(user)
    if user.totp_secret:
        return render_template(
            "admin/two_factor.html",
            required=required,
            unused=two_factor.unused_recovery_codes(user),
            password_form=PasswordCheckForm(),
        )
    secret = session.get(BEING_SET_UP) or two_factor.new_secret()
    session[BEING_SET_UP] = secret  # the same key until it is set up, whatever is reloaded
    form = SetupCodeForm()
    if form.validate_on_submit():
        step = two_factor.code_step(secret, form.code.data, None)
        if step is None:
            form.code.errors.append("That code is not right: check the phone's clock, try again.")
        else:
            codes = two_factor.turn_on(user, secret, step)
            db.session.commit()
            session.pop(BEING_SET_UP, None)
            if not codes:  # a passkey was there first, with its recovery codes
                flash("Two-factor login with the app is on.", "success")
                return redirect(url_for("admin.two_factor"))
            login_user(user)  # every other session ended; this one goes on
            return render_template("admin/two_factor.html", recovery_codes=codes), {
                "Cache-Control": "no-store"
            }
    uri = two_factor.setup_uri(user, secret)
    return render_template(
        "admin/two_factor.html",
        form=form,
        required=required,
        qr=two_factor.qr_code(uri),
        secret_spaced=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    ), 422 if form.errors else 200


@bp.route("/profile/two-factor/manage", methods=["POST"])
def new_recovery_codes():
    """New recovery codes, or two-factor off; either asks for the password again."""
    user = current_user._get_current_object()
    form = PasswordCheckForm()
    action = request.form.get("action")
    if not user.totp_secret or action not in ("codes", "off"):
        abort(404)
    if not form.validate_on_submit() or not user.check_password(form.password.data):
        flash("That is not your password: nothing was changed.", "error")
        return redirect(url_for("admin.two_factor"))
    if action == "off":
        if two_factor.required_for(user) and not passkeys.keys_of(user):
            abort(403, f"This site requires two-factor login of {user.role}s.")
        two_factor.turn_off(user)
        db.session.commit()
        flash("Two-factor login is off.", "success")
        return redirect(url_for("admin.profile"))
    codes = two_factor.new_recovery_codes(user)
    record("recovery-codes-made", user)
    db.session.commit()
    return render_template("admin/two_factor.html", recovery_codes=codes), {
        "Cache-Control": "no-store"
    }


@bp.route("/profile/passkeys/options", methods=["POST"])
def passkey_options():
    """Step one of adding a passkey: what the browser needs to make one (JSON)."""
    if not ButtonForm().validate_on_submit():
        return jsonify(error="The form expired; reload the page and try again."), 400
    options = passkeys.registration_options(current_user._get_current_object())
    return options, {"Content-Type": "application/json", "Cache-Control": "no-store"}


@bp.route("/profile/passkeys", methods=["POST"])
def add_passkey():
    """Step two: the browser's new credential, checked and kept. The first second factor
    of the account also ends its other sessions and brings recovery codes (in the JSON)."""
    user = current_user._get_current_object()
    if not ButtonForm().validate_on_submit():
        return jsonify(error="The form expired; reload the page and try again."), 400
    first = not two_factor.has_second_factor(user)
    try:
        key = passkeys.register(
            user, request.form.get("credential", ""), request.form.get("name", "")
        )
    except passkeys.PasskeyError as error:
        db.session.rollback()
        return jsonify(error=str(error)), 400
    codes = two_factor.first_factor_added(user) if first else []
    db.session.commit()
    if first:
        login_user(user)  # every other session ended; this one goes on
    return jsonify(name=key.name, recovery_codes=codes), 201, {"Cache-Control": "no-store"}


@bp.route("/profile/passkeys/<int:passkey_id>/delete", methods=["POST"])
def remove_passkey(passkey_id):
    user = current_user._get_current_object()
    key = db.session.get(Passkey, passkey_id)
    if key is None or key.user_id != user.id:
        abort(404)
    form = PasswordCheckForm()
    if not form.validate_on_submit() or not user.check_password(form.password.data):
        flash("That is not your password: the passkey was kept.", "error")
        return redirect(url_for("admin.profile"))
    if two_factor.required_for(user) and not user.totp_secret and len(passkeys.keys_of(user)) == 1:
        abort(403, f"This site requires two-factor login of {user.role}s: add another first.")
    passkeys.remove(key)
    two_factor.factor_removed(user)
    db.session.commit()
    flash(f"Passkey removed: {key.name}", "success")
    return redirect(url_for("admin.profile"))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@role_required("admin")
def reset_two_factor(user_id):
    """For someone who lost both the phone and the recovery codes: back to the password
    alone (and, where the role requires it, to setting it up again at the next login)."""
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit() and two_factor.has_second_factor(user):
        two_factor.turn_off(user, by_admin=True)
        db.session.commit()
        flash(f"Two-factor login is off for {user.username}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/security")
@role_required("admin")
def security_log():
    """Who logged in, who failed, whose account changed, what left the site: newest first."""
    event = request.args.get("event", "")
    if event and event not in EVENTS:
        abort(404)
    query = db.select(SecurityEvent)
    if event:
        query = query.where(SecurityEvent.event == event)
    page = page_of(
        query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id.desc()),
        per_page=SECURITY_LOG_PAGE,
    )
    return render_template(
        "admin/security.html", page=page, event=event, events=EVENTS, kept_days=FAILURES_KEPT_DAYS
    )
