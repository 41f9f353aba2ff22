"""Site administration: categories, users, the profile and site settings."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func

from blog import passkeys, search, two_factor
from blog.accounts import AccountError, create_account, end_sessions, set_active, update_account
from blog.admin.blueprint import bp
from blog.admin.editor import category_choices
from blog.auth import PASSWORD_LINK_DAYS, password_link, role_required
from blog.caching import site_changed, site_changed_now
from blog.config import save_site_settings
from blog.database import db
from blog.editing import term_slug
from blog.forms import (
    ButtonForm,
    CategoryForm,
    DeleteForm,
    ProfileForm,
    SettingsForm,
    UserForm,
    choices,
)
from blog.models import Category, Passkey, User, post_category
from blog.names import make_slug
from blog.security_log import record


@bp.route("/categories/", methods=["GET", "POST"])
@role_required("admin", "editor")
def categories():
    """List categories with their post counts, and add new ones."""
    form = CategoryForm()
    return category_page(form, None)


@bp.route("/categories/<int:category_id>/", methods=["GET", "POST"])
@role_required("admin", "editor")
def edit_category(category_id):
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(obj=category if request.method == "GET" else None, category=category)
    if request.method == "GET":
        form.parent.data = category.parent_id or 0
    return category_page(form, category)


def category_page(form: CategoryForm, category: Category | None):
    # Not itself nor one of its descendants: a loop of parents has no top.
    below = set(db.session.scalars(Category.subtree_ids(category.id))) if category else set()
    form.parent.choices = choices([(0, "(none)")]) + [
        choice for choice in category_choices() if choice.value not in below
    ]
    if form.validate_on_submit():
        category = category or Category()
        category.name = form.name.data
        slug = make_slug(form.slug.data) if form.slug.data else ""
        category.slug = slug or category.slug or term_slug(Category, make_slug(category.name))
        category.description = (form.description.data or "").strip()
        category.parent_id = form.parent.data or None
        db.session.add(category)
        site_changed()
        db.session.commit()
        flash(f"Category saved: {category.name}", "success")
        return redirect(url_for("admin.categories"))
    counts = dict(
        db.session.execute(
            db.select(post_category.c.category_id, func.count()).group_by(
                post_category.c.category_id
            )
        ).all()
    )
    listing = db.session.scalars(db.select(Category).order_by(Category.name)).all()
    return render_template(
        "admin/categories.html",
        form=form,
        category=category,
        categories=listing,
        counts=counts,
        delete_form=DeleteForm(),
    ), 422 if form.errors else 200


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@role_required("admin", "editor")
def delete_category(category_id):
    """Delete a category; its posts stay, without it."""
    category = db.get_or_404(Category, category_id)
    if DeleteForm().validate_on_submit():
        db.session.delete(category)
        site_changed()
        db.session.commit()
        flash(f"Category deleted: {category.name}", "success")
    return redirect(url_for("admin.categories"))


@bp.route("/users/")
@role_required("admin")
def users():
    listing = db.session.scalars(db.select(User).order_by(User.username)).all()
    with_passkeys = set(db.session.scalars(db.select(Passkey.user_id).distinct()))
    return render_template("admin/users.html", users=listing, with_passkeys=with_passkeys)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    return user_page(UserForm(), None)


@bp.route("/users/<int:user_id>/", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id):
    user = db.get_or_404(User, user_id)
    return user_page(UserForm(obj=user if request.method == "GET" else None, account=user), user)


@bp.route("/users/<int:user_id>/password-link", methods=["POST"])
@role_required("admin")
def make_password_link(user_id):
    """A link to hand to the user (imported authors have no password until they use one)."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, account=user)
    record("password-link", user, detail=f"valid {PASSWORD_LINK_DAYS} days")
    db.session.commit()
    return render_template(
        "admin/user.html",
        form=form,
        user=user,
        link=password_link(user),
        days=PASSWORD_LINK_DAYS,
        second_factor=two_factor.has_second_factor(user),
    )


@bp.route("/users/<int:user_id>/sessions", methods=["POST"])
@role_required("admin")
def end_user_sessions(user_id):
    """Log a person out everywhere (a lost laptop, a shared computer)."""
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit():
        end_sessions(user)
        record("sessions-ended", user)
        db.session.commit()
        flash(f"{user.username} is logged out everywhere.", "success")
    if user.id == current_user.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@role_required("admin")
def set_user_active(user_id):
    """Disable an account (it can no longer log in, and its sessions end), or enable it."""
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            set_active(user, active)
        except AccountError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(f"{user.username} is {'enabled' if active else 'disabled'}.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/profile/sessions", methods=["POST"])
def end_my_sessions():
    """Log out everywhere, this browser included."""
    if ButtonForm().validate_on_submit():
        end_sessions(current_user)
        record("sessions-ended", current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash("You are logged out everywhere.", "info")
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.profile"))


def user_page(form: UserForm, user: User | None):
    if form.validate_on_submit():
        fields = {
            "username": form.username.data,
            "email": form.email.data,
            "role": form.role.data,
            "display_name": form.display_name.data or "",
        }
        try:
            if user is None:
                user = create_account(**fields, password=form.password.data)
            else:
                update_account(user, **fields, password=form.password.data or None)
        except AccountError as error:  # another admin's save in between the checks
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error))
        else:
            db.session.commit()
            if user.id == current_user.id:  # a new password or role ended every session
                login_user(user)
            flash(f"User saved: {user.username}", "success")
            return redirect(url_for("admin.users"))
    second_factor = user is not None and two_factor.has_second_factor(user)
    return render_template(
        "admin/user.html", form=form, user=user, second_factor=second_factor
    ), 422 if form.errors else 200


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Let every user change their own name, email and password."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None, account=user)
    if form.validate_on_submit():
        try:
            update_account(
                user,
                email=form.email.data,
                display_name=form.display_name.data or "",
                password=form.new_password.data or None,
            )
        except AccountError as error:
            db.session.rollback()
            field = form.new_password if error.field == "password" else form.email
            field.errors.append(str(error))
        else:
            db.session.commit()
            if form.new_password.data:  # every session ended: this one goes on
                login_user(user)
            flash("Profile saved.", "success")
            return redirect(url_for("admin.profile"))
    return render_template(
        "admin/profile.html", form=form, keys=passkeys.keys_of(user)
    ), 422 if form.errors else 200


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings():
    """Edit the [site] settings; they are written to config.toml."""
    form = SettingsForm(data=current_app.config["SITE"] if request.method == "GET" else None)
    before = dict(current_app.config["SITE"])
    language_before = before["language"]
    if form.validate_on_submit():
        save_site_settings(
            current_app,
            {
                "title": form.title.data.strip(),
                "tagline": (form.tagline.data or "").strip(),
                "url": form.url.data.strip().rstrip("/"),
                "posts_per_page": form.posts_per_page.data,
                "timezone": form.timezone.data,
                "language": form.language.data.strip(),
            },
        )
        after = current_app.config["SITE"]
        changed = [f"{key}: {before.get(key)!r} → {after[key]!r}"
                   for key in after if after[key] != before.get(key)]  # fmt: skip
        if changed:
            record("settings-changed", detail="; ".join(changed))
            db.session.commit()
        site_changed_now()
        flash("Settings saved.", "success")
        if current_app.config["SITE"]["language"] != language_before:
            count = search.rebuild()  # words are stemmed by the site's language
            db.session.commit()
            flash(f"Search now reads {count} posts as {form.language.data.strip()}.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 422 if form.errors else 200
