"""The admin's Import/Export page: the same import and export as the command line."""

import shutil
import tempfile
from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SubmitField

from blog.auth import role_required
from blog.forms import ButtonForm, Form
from blog.wordpress.exporter import export_wordpress
from blog.wordpress.items import WxrError

bp = Blueprint("wordpress", __name__, url_prefix="/admin")

UPLOAD_LIMIT = 256 * 1024 * 1024  # exports of large sites run to tens of megabytes
PROGRESS_EVERY = 50  # posts between progress lines


class ImportForm(Form):
    file = FileField(
        "WordPress export file",
        validators=[FileRequired("Choose the .xml file WordPress's Tools → Export made.")],
        description="In WordPress: Tools → Export → All content → Download Export File.",
    )
    dry_run = BooleanField("Dry run: report what would be imported, change nothing")
    submit = SubmitField("Import")


def import_export_page(form: ImportForm, **extra) -> str:
    return render_template("admin/import_export.html", form=form, export_form=ButtonForm(), **extra)


@bp.route("/import-export", methods=["GET"])
@role_required("admin")
def page():
    return import_export_page(ImportForm())


@bp.route("/import-export", methods=["POST"])
@role_required("admin")
def import_upload():
    # The importer brings lxml and markdownify: loaded when an import runs, not at start-up.
    from blog.wordpress.importer import Summary, import_steps, scan

    request.max_content_length = UPLOAD_LIMIT
    form = ImportForm()
    if not form.validate_on_submit():
        return import_export_page(form), 422
    # Our own copy: the upload's file is closed with the request, and the page goes
    # on streaming after that.
    upload = tempfile.TemporaryFile()  # noqa: SIM115 -- closed when the import ends
    try:
        with form.file.data.stream as received:  # a big upload's own temporary file
            shutil.copyfileobj(received, upload)
        found = scan(upload)  # the whole file is checked before anything is written
    except WxrError as error:
        upload.close()
        form.file.errors.append(f"{error}. Nothing was imported.")
        return import_export_page(form), 422
    except BaseException:
        upload.close()
        raise
    dry_run = form.dry_run.data
    page = import_export_page(form, importing=True, found=found)
    head, tail = page.split("<!-- import log -->", 1)

    def run():
        with upload:
            yield from steps_as_html()

    def steps_as_html():
        yield head
        yield '<div class="import-log" role="status">'
        summary = Summary(dry_run=dry_run)
        try:
            for done, total, comments in import_steps(upload, summary, found):
                if done % PROGRESS_EVERY == 0 or done == total:
                    yield f"<p>{done:,} of {total:,} posts and pages, {comments:,} comments…</p>"
        except WxrError as error:
            yield "</div>"
            yield render_template("admin/_import_failed.html", error=str(error))
        else:
            yield "</div>"
            yield render_template("admin/_import_summary.html", summary=summary)
        yield tail

    return Response(stream_with_context(run()), mimetype="text/html")


@bp.route("/export/wordpress.xml", methods=["POST"])
@role_required("admin")
def export_file():
    """The whole site as a download. A POST with the form's token: an export is written
    to the security log, and another site's page must not be able to make one."""
    if not ButtonForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 -- send_file closes it
    export_wordpress(out)
    out.seek(0)
    return send_file(
        out,
        mimetype="application/rss+xml",
        as_attachment=True,
        download_name=f"pressroom-{date.today():%Y-%m-%d}.xml",
    )
