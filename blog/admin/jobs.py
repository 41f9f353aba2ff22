"""The Jobs page: what the background queue (blog/jobs.py) holds, waiting, running and
failed with its error, and the admin's two answers to a failed job: retry or delete."""

from flask import abort, flash, redirect, render_template, url_for

from blog import jobs
from blog.admin.blueprint import bp
from blog.auth import role_required
from blog.database import db
from blog.forms import ButtonForm


@bp.route("/jobs")
@role_required("admin")
def job_list():
    queue = jobs.the_queue()
    shown = queue.shown()
    return render_template(
        "admin/jobs.html",
        failed=[job for job in shown if job.state == "failed"],
        waiting=[job for job in shown if job.state != "failed"],
        workers=queue.workers(),
        on_redis=isinstance(queue, jobs.RedisQueue),
        max_attempts=jobs.MAX_ATTEMPTS,
        form=ButtonForm(),
    )


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@role_required("admin")
def retry_job(job_id):
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not jobs.the_queue().retry(job_id):
        abort(404)
    db.session.commit()
    flash("The job is queued again.", "success")
    return redirect(url_for("admin.job_list"))


@bp.route("/jobs/<job_id>/delete", methods=["POST"])
@role_required("admin")
def delete_job(job_id):
    if not ButtonForm().validate_on_submit():
        abort(400)
    if not jobs.the_queue().delete(job_id):
        abort(404)
    db.session.commit()
    flash("The job is deleted.", "success")
    return redirect(url_for("admin.job_list"))
