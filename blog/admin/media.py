"""The media library (list, search, upload, delete) and the editor's image upload."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import exists, or_
from sqlalchemy.orm import joinedload

from blog.admin.blueprint import bp
from blog.arguments import page_arg
from blog.database import db
from blog.forms import DeleteForm, UploadForm
from blog.media.html import markdown_for
from blog.media.images import MediaError
from blog.media.storage import delete_attachment, store_image
from blog.media.usage import uses_of
from blog.models import Attachment, attachment_use

MEDIA_PER_PAGE = 40


def can_manage(attachment: Attachment) -> bool:
    """Editors and admins manage every file; an author the files they uploaded."""
    return current_user.edits_every_post or attachment.uploader_id == current_user.id


@bp.route("/media/", methods=["GET", "POST"])
def media():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.image.data
        try:
            attachment = store_image(
                upload.read(), upload.filename, form.alt_text.data or "", current_user
            )
        except MediaError as error:
            form.image.errors = [str(error)]
        else:
            flash(f"Uploaded: {attachment.url}", "success")
            return redirect(url_for("admin.media"))
    query = db.select(Attachment).options(joinedload(Attachment.uploader))
    words = request.args.get("q", "").strip()
    if words:
        columns = (Attachment.title, Attachment.alt_text, Attachment.caption, Attachment.url)
        query = query.where(or_(*(column.icontains(words, autoescape=True) for column in columns)))
    unused = request.args.get("unused") == "1"
    if unused:  # for tidying up: files no post shows
        query = query.where(~exists().where(attachment_use.c.attachment_id == Attachment.id))
    page = db.paginate(
        query.order_by(Attachment.created_at.desc(), Attachment.id.desc()),
        page=page_arg(),
        per_page=MEDIA_PER_PAGE,
    )
    return render_template(
        "admin/media.html",
        page=page,
        uses=uses_of([item.id for item in page.items], current_user),
        form=form,
        q=words,
        unused=unused,
        delete_form=DeleteForm(),
        can_manage=can_manage,
        markdown_for=markdown_for,
    ), 422 if form.errors else 200


@bp.route("/media/upload", methods=["POST"])
def upload_image():
    """The editor's upload (paste, drop, or the toolbar): JSON with the image's Markdown."""
    form = UploadForm()
    if not form.validate_on_submit():
        if form.image.errors:
            return jsonify(error=form.image.errors[0]), 400
        return jsonify(error="The form expired; reload the editor and try again."), 400
    upload = form.image.data
    try:
        attachment = store_image(
            upload.read(), upload.filename, form.alt_text.data or "", current_user
        )
    except MediaError as error:
        return jsonify(error=str(error)), error.status
    return jsonify(
        id=attachment.id,
        url=attachment.url,
        width=attachment.width,
        height=attachment.height,
        markdown=markdown_for(attachment),
    ), 201


@bp.route("/media/<int:attachment_id>/delete", methods=["POST"])
def delete_media(attachment_id):
    attachment = db.get_or_404(Attachment, attachment_id)
    if not can_manage(attachment):
        abort(403)
    if DeleteForm().validate_on_submit():
        name = attachment.title or attachment.url
        delete_attachment(attachment)
        flash(f"Deleted: {name}", "success")
    return redirect(
        url_for("admin.media", q=request.args.get("q") or None, unused=request.args.get("unused"))
    )
