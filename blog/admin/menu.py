"""The navigation menu's page: add, label, order, nest and remove items (admins)."""

from flask import flash, redirect, render_template, request, url_for

from blog import menus
from blog.admin.blueprint import bp
from blog.auth import role_required
from blog.database import db
from blog.forms import ButtonForm, MenuItemForm
from blog.models import Category, MenuItem, Post, Tag, post_tag

TAGS_OFFERED = 100  # the most used; any other tag by its address


def target_choices() -> list:
    """Optgroups of what an item may point at: published pages in their tree order, the
    categories, the most used tags."""
    pages = db.session.scalars(
        db.select(Post)
        .where(Post.type == "page", Post.status == "published")
        .order_by(Post.menu_order, Post.title)
    ).all()
    categories = db.session.scalars(db.select(Category).order_by(Category.name)).all()
    tags = db.session.scalars(
        db.select(Tag)
        .join(post_tag, post_tag.c.tag_id == Tag.id)
        .group_by(Tag.id)
        .order_by(db.func.count().desc(), Tag.name)
        .limit(TAGS_OFFERED)
    ).all()
    return [
        ("", "(none: a link to the address below)"),
        *[(f"post:{page.id}", f"Page: {page.title} (/{page.path}/)") for page in pages],
        *[(f"category:{category.id}", f"Category: {category.name}") for category in categories],
        *[(f"tag:{tag.id}", f"Tag: {tag.name}") for tag in sorted(tags, key=lambda t: t.name)],
    ]


@bp.route("/menu", methods=["GET", "POST"])
@role_required("admin")
def menu():
    form = MenuItemForm()
    form.target.choices = target_choices()
    status = 200
    if form.validate_on_submit():
        try:
            item = menus.add_item(
                form.target.data or "", form.label.data or "", form.url.data or ""
            )
        except menus.MenuError as error:
            db.session.rollback()
            form.target.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Added to the menu: {menus.target_name(item)}", "success")
            return redirect(url_for("admin.menu"))
    if form.errors:
        status = 422
    return render_template(
        "admin/menu.html",
        form=form,
        items=menus.items(),
        target_name=menus.target_name,
    ), status


ACTIONS = {
    "up": lambda item: menus.move(item, -1),
    "down": lambda item: menus.move(item, 1),
    "indent": menus.indent,
    "outdent": menus.outdent,
    "remove": menus.remove,
    "rename": lambda item: menus.rename(item, request.form.get("label", "")),
}


@bp.route("/menu/<int:item_id>", methods=["POST"])
@role_required("admin")
def menu_item(item_id):
    item = db.get_or_404(MenuItem, item_id)
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None or not ButtonForm().validate_on_submit():
        return redirect(url_for("admin.menu"))  # a stale page or a forged form: nothing done
    try:
        action(item)
    except menus.MenuError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Menu saved.", "success")
    return redirect(url_for("admin.menu"))
