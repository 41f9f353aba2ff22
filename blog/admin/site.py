"""Site administration: categories, users, the profile and site settings."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func

from blog import search
from blog.admin import bp
from blog.admin.editor import category_choices
from blog.auth import PASSWORD_LINK_DAYS, password_link, role_required
from blog.config import save_site_settings
from blog.database import db
from blog.editing import make_slug, term_slug
from blog.forms import (
    CategoryForm,
    DeleteForm,
    ProfileForm,
    SettingsForm,
    UserForm,
    choices,
)
from blog.models import Category, User, post_category


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
    form = CategoryForm(obj=category if request.method == "GET" else None)
    if request.method == "GET":
        form.parent.data = category.parent_id or 0
    return category_page(form, category)


def category_page(form: CategoryForm, category: Category | None):
    form.parent.choices = choices([(0, "(none)")]) + [
        choice for choice in category_choices() if not category or choice.value != category.id
    ]
    if form.validate_on_submit():
        name = " ".join(form.name.data.split())
        slug = make_slug(form.slug.data) if form.slug.data else ""
        clash = db.select(Category.id).where(Category.name == name)
        if category:
            clash = clash.where(Category.id != category.id)
        if db.session.scalar(clash) is not None:
            form.name.errors.append(f"A category named {name!r} exists already.")
        elif form.slug.data and not slug:
            form.slug.errors.append("Use letters or digits in the slug.")
        elif slug and db.session.scalar(
            db.select(Category.id).where(
                Category.slug == slug, Category.id != (category.id if category else -1)
            )
        ):
            form.slug.errors.append(f"The slug {slug!r} is taken by another category.")
        else:
            category = category or Category()
            category.name = name
            category.slug = slug or category.slug or term_slug(Category, name)
            category.description = (form.description.data or "").strip()
            category.parent_id = form.parent.data or None
            db.session.add(category)
            db.session.commit()
            flash(f"Category saved: {name}", "success")
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
        db.session.commit()
        flash(f"Category deleted: {category.name}", "success")
    return redirect(url_for("admin.categories"))


@bp.route("/users/")
@role_required("admin")
def users():
    listing = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=listing)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    return user_page(UserForm(), None)


@bp.route("/users/<int:user_id>/", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id):
    user = db.get_or_404(User, user_id)
    return user_page(UserForm(obj=user if request.method == "GET" else None), user)


@bp.route("/users/<int:user_id>/password-link", methods=["POST"])
@role_required("admin")
def make_password_link(user_id):
    """A link to hand to the user (imported authors have no password until they use one)."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    return render_template(
        "admin/user.html", form=form, user=user, link=password_link(user), days=PASSWORD_LINK_DAYS
    )


def user_page(form: UserForm, user: User | None):
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        email = form.email.data.strip().lower()
        others = db.select(User).where(User.id != (user.id if user else -1))
        if db.session.scalar(others.where(User.username == username)):
            form.username.errors.append("That user name is taken.")
        elif db.session.scalar(others.where(User.email == email)):
            form.email.errors.append("Another account has that email.")
        elif user is None and not form.password.data:
            form.password.errors.append("Give the new account a password.")
        elif user and user.is_admin and form.role.data != "admin" and last_admin(user):
            form.role.errors.append("The site needs at least one admin.")
        else:
            user = user or User()
            user.username = username
            user.email = email
            user.display_name = (form.display_name.data or "").strip()
            user.role = form.role.data
            if form.password.data:
                user.set_password(form.password.data)
            db.session.add(user)
            db.session.commit()
            flash(f"User saved: {username}", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user.html", form=form, user=user), 422 if form.errors else 200


def last_admin(user: User) -> bool:
    admins = db.session.scalar(db.select(func.count(User.id)).where(User.role == "admin"))
    return user.is_admin and admins <= 1


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Let every user change their own name, email and password."""
    user = current_user._get_current_object()
    form = ProfileForm(obj=user if request.method == "GET" else None)
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        elif db.session.scalar(db.select(User).where(User.email == email, User.id != user.id)):
            form.email.errors.append("Another account has that email.")
        else:
            user.display_name = (form.display_name.data or "").strip()
            user.email = email
            if form.new_password.data:
                user.set_password(form.new_password.data)
            db.session.commit()
            flash("Profile saved.", "success")
            return redirect(url_for("admin.profile"))
    return render_template("admin/profile.html", form=form), 422 if form.errors else 200


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings():
    """Edit the [site] settings; they are written to config.toml."""
    form = SettingsForm(data=current_app.config["SITE"] if request.method == "GET" else None)
    language_before = current_app.config["SITE"]["language"]
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
        flash("Settings saved.", "success")
        if current_app.config["SITE"]["language"] != language_before:
            count = search.rebuild()  # words are stemmed by the site's language
            db.session.commit()
            flash(f"Search now reads {count} posts as {form.language.data.strip()}.", "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), 422 if form.errors else 200
