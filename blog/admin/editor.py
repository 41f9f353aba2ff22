"""The post editor: writing, previewing, autosave, revisions and share links.

Everything works as a plain form (static/editor.js only adds to it): Preview renders
on the server, Upload image adds the image to the body, Add category adds one and checks
it, and a save from a copy of the post that someone else has saved since is refused and
explained, never merged silently.
"""

from datetime import timedelta

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload

from blog import sharing
from blog.admin.blueprint import bp, editable_post_or_404
from blog.arguments import id_arg
from blog.caching import site_changed
from blog.database import db
from blog.editing import (
    PostConflict,
    PostData,
    PostError,
    categories_from_names,
    delete_post,
    render_post_body,
    save_post,
    tags_from_names,
    word_count,
)
from blog.forms import IMAGE_REQUIRED, ButtonForm, DeleteForm, PostForm, choices
from blog.media.html import markdown_for
from blog.media.images import MediaError
from blog.media.storage import store_image
from blog.models import STATUS_HELP, Category, Post, Revision, utcnow
from blog.rendering import BODY_MAX, BodyRefused, check_length, post_summary
from blog.revisions import compare, restore_revision
from blog.scheduling import scheduler
from blog.sitetime import local, local_time, to_utc

UNTITLED = "Untitled draft"


def category_choices():
    return choices(
        (category.id, category.name)
        for category in db.session.scalars(db.select(Category).order_by(Category.name))
    )


def page_choices(post: Post | None):
    """Every page as a parent the post may take, in the order of the pages' tree (by
    order, then title), indented by depth; not the post itself nor a page below it."""
    pages = db.session.execute(
        db.select(Post.id, Post.title, Post.parent_id)
        .where(Post.type == "page")
        .order_by(Post.menu_order, Post.title, Post.id)
    ).all()
    children: dict[int | None, list] = {}
    ids = {page.id for page in pages}
    for page in pages:  # a parent that is gone or not a page: shown at the top level
        children.setdefault(page.parent_id if page.parent_id in ids else None, []).append(page)
    shown = [(0, "(none: a top-level page)")]
    seen = set()

    def add(parent_id, depth):
        for page in children.get(parent_id, []):
            if page.id in seen or (post is not None and page.id == post.id):
                continue
            seen.add(page.id)
            shown.append((page.id, "— " * depth + page.title))
            add(page.id, depth + 1)

    add(None, 0)
    return choices(shown)


def editor_form(post: Post | None = None, **kwargs) -> PostForm:
    """The editor's form with its choices (categories, parent pages)."""
    form = PostForm(**kwargs)
    form.categories.choices = category_choices()
    form.parent_id.choices = page_choices(post)
    return form


def post_data_from(form: PostForm) -> PostData:
    """Read the form into PostData; the button pressed decides the status."""
    if form.publish.data and not current_user.may_publish:
        status = "pending"  # "Submit for review"
    elif form.publish.data:
        status = (
            "published" if form.status.data not in ("unlisted", "private") else form.status.data
        )
    elif form.save_draft.data:
        status = "draft"
    else:
        status = form.status.data
    wanted = form.categories.data or []
    categories = db.session.scalars(db.select(Category).where(Category.id.in_(wanted))).all()
    # A form without the Type select (a script, an older page) leaves type and sticky be.
    full_form = "type" in request.form
    return PostData(
        title=form.title.data or "",
        body=form.body.data or "",
        excerpt=form.excerpt.data or "",
        slug=form.slug.data or "",
        status=status,
        categories=sorted(categories, key=lambda category: wanted.index(category.id)),
        tags=tags_from_names((form.tags.data or "").split(",")),
        published_at=to_utc(form.published_at.data) if form.published_at.data else None,
        type=form.type.data if full_form else None,
        sticky=form.sticky.data if full_form else None,
        table_of_contents=form.table_of_contents.data if full_form else None,
        parent_id=form.parent_id.data or 0 if full_form else None,
        menu_order=form.menu_order.data or 0 if full_form else None,
    )


def form_for(post: Post) -> PostForm:
    """The editor's form filled from the saved post, opened at its current version."""
    form = editor_form(post, obj=post)
    form.parent_id.data = post.parent_id or 0
    form.categories.data = [category.id for category in post.categories]
    form.tags.data = ", ".join(tag.name for tag in post.tags)
    form.version.data = str(post.version)
    if post.published_at:  # the author reads and types the site's local time
        form.published_at.data = local(post.published_at).replace(tzinfo=None)
    return form


def latest_autosave(post: Post) -> Revision | None:
    return db.session.scalar(
        db.select(Revision).where(Revision.autosave_of(post.id, current_user.id)).limit(1)
    )


def edit_page(form: PostForm, post: Post | None, conflict: Post | None = None, **extra):
    """Show the editor; with Preview pressed, the rendered body beside it."""
    preview = None
    if form.preview.data:
        try:
            preview = render_post_body(form.body.data or "", form.table_of_contents.data)
        except BodyRefused as refused:
            form.body.errors = [*form.body.errors, str(refused)]
    words = word_count(form.body.data or "")
    too_long = len(form.body.data or "") > BODY_MAX
    form.status.description = STATUS_HELP.get(form.status.data, "")
    status = 409 if conflict else 413 if too_long else 422 if form.errors else 200
    return render_template(
        "admin/edit.html",
        form=form,
        post=post,
        preview=preview,
        words=words,
        conflict=conflict,
        site_now=local_time(utcnow(), "%Y-%m-%dT%H:%M:%S"),  # the Schedule button's clock
        status_help=STATUS_HELP,
        **extra,
    ), status


def add_uploaded_image(form: PostForm, post: Post | None):
    """ "Upload image" without JavaScript: store it and add its Markdown to the body."""
    # The rest of the form is not checked: an image may go in before the post has a title.
    if not form.image.validate(form, extra_validators=[IMAGE_REQUIRED]):
        return edit_page(form, post)
    upload = form.image.data
    try:
        attachment = store_image(
            upload.read(), upload.filename, form.image_alt.data or "", current_user
        )
    except MediaError as error:
        form.image.errors = [str(error)]
        return edit_page(form, post)
    body = (form.body.data or "").rstrip("\n")
    form.body.data = f"{body}\n\n{markdown_for(attachment)}\n" if body else markdown_for(attachment)
    form.image_alt.data = ""
    flash(f"Image uploaded and added to the end of the body: {attachment.url}", "success")
    return edit_page(form, post)


def category_named(name: str) -> tuple[Category, bool]:
    """The category of that name (or slug), made if there is none; and whether it was."""
    try:
        return categories_from_names([name])[0], False
    except PostError:
        created = categories_from_names([name], create=True)[0]
        site_changed()  # the categories' navigation and lists
        return created, True


def add_category_from_editor(form: PostForm, post: Post | None):
    """ "Add category" without JavaScript: make it (or find it), check it, keep the text."""
    if not current_user.edits_every_post:
        abort(403)  # categories are the editors' (WordPress: manage_categories)
    name = form.new_category.data or ""
    if not name or not form.new_category.validate(form):
        form.new_category.errors = [*form.new_category.errors] or ["Give the category a name."]
        return edit_page(form, post)
    category, created = category_named(name)
    db.session.commit()
    form.categories.choices = category_choices()
    form.categories.data = [*(form.categories.data or []), category.id]
    form.new_category.data = ""
    said = "Category added" if created else "Category checked (it was there already)"
    flash(f"{said}: {category.name}. Save the post to keep it there.", "success")
    return edit_page(form, post)


@bp.route("/categories/add", methods=["POST"])
def add_category():
    """The editor's Add category, from static/editor.js: {"id", "name", "created"}."""
    if not current_user.edits_every_post:
        abort(403)
    name = " ".join(request.form.get("name", "").split())
    if not name or len(name) > 200:
        return jsonify(error="Give the category a name of at most 200 characters."), 422
    category, created = category_named(name)
    db.session.commit()
    return jsonify(id=category.id, name=category.name, created=created), 201 if created else 200


def handle_post_form(form: PostForm, post: Post | None):
    if request.method == "POST" and form.upload.data:
        return add_uploaded_image(form, post)
    if request.method == "POST" and form.add_category.data:
        return add_category_from_editor(form, post)
    if not form.validate_on_submit() or form.preview.data:
        return edit_page(form, post)
    expected = int(form.version.data) if post and form.version.data else None
    try:
        saved = save_post(
            post_data_from(form),
            author=current_user,
            post=post,
            form=request.form,
            expected_version=expected,
        )
    except PostError as error:
        getattr(form, error.field).errors = [*getattr(form, error.field).errors, str(error)]
        return edit_page(form, post)
    except PostConflict as conflict:
        # Keep this author's words on the page; saving again now replaces the other version.
        form.version.data = str(conflict.post.version)
        return edit_page(form, post, conflict=conflict.post)
    if saved.status == "scheduled":
        scheduler().due_soon(saved.published_at)
        when = local_time(saved.published_at)
        flash(f"Scheduled: {saved.title} goes out on {when}", "success")
    elif saved.is_public:
        flash(f"Published: {saved.title}", "success")
    else:
        flash(f"Saved ({saved.status}): {saved.title}", "success")
    return redirect(url_for("admin.edit_post", post_id=saved.id))


@bp.route("/posts/new", methods=["GET", "POST"])
def new_post():
    return handle_post_form(editor_form(), None)


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit_post(post_id):
    post = editable_post_or_404(post_id)
    if request.method == "POST":
        return handle_post_form(editor_form(post), post)
    form = form_for(post)
    autosave = latest_autosave(post)
    restored = None
    if autosave and (autosave.title, autosave.body, autosave.excerpt) != (
        post.title,
        post.body,
        post.excerpt,
    ):
        if autosave.created_at >= post.updated_at:
            # The tab was closed, reloaded or crashed after typing: carry on from there.
            form.title.data, form.body.data = autosave.title, autosave.body
            form.excerpt.data = autosave.excerpt
            restored = autosave
    return edit_page(form, post, restored=restored, stale_autosave=autosave and not restored)


@bp.route("/posts/<int:post_id>/delete", methods=["GET", "POST"])
def delete(post_id):
    """Ask before deleting; delete on the confirming POST."""
    post = editable_post_or_404(post_id)
    form = DeleteForm()
    if form.validate_on_submit():
        title = post.title
        delete_post(post)
        flash(f"Deleted: {title}", "success")
        return redirect(url_for("admin.index"))
    return render_template("admin/delete.html", post=post, form=form)


@bp.route("/preview", methods=["POST"])
def preview():
    """Render Markdown exactly as the published page will, for the live preview; a body
    the site will not render gets 422 and the reason, which the preview pane shows."""
    html_page = {"Content-Type": "text/html; charset=utf-8"}
    try:
        body = request.form.get("body", "")
        contents = bool(request.form.get("table_of_contents"))
        return str(render_post_body(body, contents)), html_page
    except BodyRefused as refused:
        reason = Markup('<p class="flash flash-error" role="alert">{}</p>').format(refused)
        return str(reason), refused.status, html_page


@bp.route("/posts/preview-page", methods=["POST"])
@bp.route("/posts/<int:post_id>/preview-page", methods=["POST"])
def preview_page(post_id=None):
    """The whole public page as it would look with the editor's unsaved text."""
    post = editable_post_or_404(post_id) if post_id else None
    form = editor_form(post)
    form.validate_on_submit()
    try:
        check_length(form.body.data or "")
    except BodyRefused as refused:
        abort(refused.status, f"The preview cannot be shown ({refused})")
    problems = [f"{name}: {errors[0]}" for name, errors in form.errors.items() if name != "title"]
    if problems:  # a title may still be missing in a preview
        abort(400, f"The preview cannot be shown ({'; '.join(problems)}).")
    data = post_data_from(form)
    try:
        body_html = render_post_body(data.body, bool(data.table_of_contents))
    except BodyRefused as refused:
        abort(422, f"The preview cannot be shown ({refused})")
    # A stand-in, never saved (see the rollback below).
    shown = Post(
        id=post.id if post else None,
        title=" ".join(data.title.split()) or UNTITLED,
        slug=post.slug if post else "preview",
        body=data.body,
        body_html=body_html,
        summary=post_summary(data.excerpt, data.body, body_html),
        status=post.status if post else "draft",
        type=data.type or "post",
        created_at=post.created_at if post else utcnow(),
        published_at=data.published_at or (post.published_at if post else None),
        updated_at=utcnow(),
    )
    shown.author = post.author if post else current_user._get_current_object()
    shown.categories = list(data.categories)
    shown.tags = list(data.tags)
    shown.featured_image = post.featured_image if post else None
    try:
        # The stand-in can reach the session through its author's and terms' back-references;
        # it must never be flushed, and whatever the form made (new tags) is rolled back.
        with db.session.no_autoflush:
            page = render_template("posts/detail.html", post=shown, preview="unsaved")
    finally:
        db.session.rollback()
    return page, {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"}


@bp.route("/posts/autosave", methods=["POST"])
@bp.route("/posts/<int:post_id>/autosave", methods=["POST"])
def autosave(post_id=None):
    """Keep what the author is typing, every few seconds and on leaving the page.

    A new post becomes a draft at its first autosave (the answer tells the page its
    address). An existing post is not changed: the words go to this author's one
    autosave copy, which the editor offers back when the post is opened again. The
    answer says when someone else has saved the post since this copy was opened.
    """
    form = request.form
    title = " ".join(form.get("title", "").split())[:300]
    body, excerpt = form.get("body", ""), form.get("excerpt", "")[:2000]
    try:
        check_length(body)
    except BodyRefused as refused:
        return jsonify(error=str(refused)), refused.status
    if post_id is None:
        if not title and not body.strip():
            return jsonify(saved=False), 200
        post = save_post(
            PostData(title=title or UNTITLED, body=body, excerpt=excerpt), current_user
        )
        return jsonify(
            saved=True,
            post_id=post.id,
            version=post.version,
            edit_url=url_for("admin.edit_post", post_id=post.id),
            autosave_url=url_for("admin.autosave", post_id=post.id),
            preview_page_url=url_for("admin.preview_page", post_id=post.id),
            saved_at=local_time(post.updated_at, "%H:%M:%S %Z"),
        )
    post = editable_post_or_404(post_id)
    copy = latest_autosave(post) or Revision(post_id=post.id, author_id=current_user.id)
    copy.kind = "autosave"
    copy.title, copy.body, copy.excerpt = title or post.title, body, excerpt
    copy.created_at = utcnow()
    db.session.add(copy)
    db.session.commit()
    answer = {
        "saved": True,
        "version": post.version,
        "saved_at": local_time(copy.created_at, "%H:%M:%S %Z"),
    }
    opened_at = form.get("version", "")
    if opened_at.isdigit() and int(opened_at) != post.version:
        answer["conflict"] = conflict_message(post)
    return jsonify(answer)


def conflict_message(post: Post) -> str:
    last = db.session.scalar(
        db.select(Revision)
        .where(Revision.post_id == post.id, Revision.kind == "save")
        .options(joinedload(Revision.author))
        .order_by(Revision.id.desc())
        .limit(1)
    )
    who = last.author.name if last and last.author else "Someone"
    if last and last.author_id == current_user.id:
        who = "You (in another tab or window)"
    when = local_time(post.updated_at, "%H:%M:%S %Z")
    return (
        f"{who} saved this post at {when}, after this page was opened. "
        "Your words are kept as an autosave; saving now would replace that newer version."
    )


@bp.route("/posts/<int:post_id>/autosave/discard", methods=["POST"])
def discard_autosave(post_id):
    post = editable_post_or_404(post_id)
    if ButtonForm().validate_on_submit():
        db.session.execute(
            db.delete(Revision).where(Revision.autosave_of(post.id, current_user.id))
        )
        db.session.commit()
        flash("Autosaved changes discarded.", "success")
    return redirect(url_for("admin.edit_post", post_id=post.id))


@bp.route("/posts/<int:post_id>/revisions/")
def revisions(post_id):
    """Every saved version of the post; any two compared; any one restorable."""
    post = editable_post_or_404(post_id)
    listing = db.session.scalars(
        db.select(Revision)
        .where(Revision.post_id == post.id, Revision.shown_to(current_user.id))
        .options(joinedload(Revision.author))
        .order_by(Revision.created_at.desc(), Revision.id.desc())
    ).all()
    by_id = {revision.id: revision for revision in listing}
    older = by_id.get(id_arg("a"))
    newer = by_id.get(id_arg("b"))
    if ("a" in request.args or "b" in request.args) and not (older and newer):
        abort(404)
    if not older and len(listing) >= 2:
        saves = [revision for revision in listing if revision.kind == "save"]
        newer, older = (saves[0], saves[1]) if len(saves) >= 2 else (listing[0], listing[1])
    changes = compare(older, newer) if older and newer else None
    return render_template(
        "admin/revisions.html",
        post=post,
        revisions=listing,
        older=older,
        newer=newer,
        changes=changes,
        form=ButtonForm(),
        word_count=word_count,
    )


@bp.route("/posts/<int:post_id>/revisions/<int:revision_id>/restore", methods=["POST"])
def restore(post_id, revision_id):
    post = editable_post_or_404(post_id)
    revision = db.session.scalar(
        db.select(Revision).where(
            Revision.id == revision_id,
            Revision.post_id == post.id,
            Revision.shown_to(current_user.id),
        )
    )
    if revision is None:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    try:
        restore_revision(post, revision, current_user)
    except PostError as error:
        flash(f"The revision could not be restored: {error}", "error")
        return redirect(url_for("admin.revisions", post_id=post.id))
    flash(f"Restored the version of {local_time(revision.created_at)}.", "success")
    return redirect(url_for("admin.edit_post", post_id=post.id))


@bp.route("/posts/<int:post_id>/share", methods=["POST"])
def share(post_id):
    """A signed link that lets someone without an account read the draft."""
    post = editable_post_or_404(post_id)
    days = request.form.get("days", type=int)
    if days not in sharing.LINK_DAYS or not ButtonForm().validate_on_submit():
        abort(
            400, f"Choose how long the link works: {', '.join(map(str, sharing.LINK_DAYS))} days."
        )
    link = sharing.share_link(post, timedelta(days=days))
    return edit_page(form_for(post), post, share_link=link, share_days=days)


@bp.route("/posts/<int:post_id>/share/withdraw", methods=["POST"])
def withdraw_share_links(post_id):
    """Every share link made for the post stops working (a link went further than meant)."""
    post = editable_post_or_404(post_id)
    if not ButtonForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    sharing.withdraw_links(post)
    flash("Share links withdrawn: every link made so far for this post stops working.", "success")
    return redirect(url_for("admin.edit_post", post_id=post.id))
