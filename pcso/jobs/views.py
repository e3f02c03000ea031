"""A user's background jobs: progress, and the file when it is ready (only to the user who asked).

GET  /jobs                  the user's own jobs, newest first
GET  /jobs/<id>             one job: a progress bar (static/js/jobs.js polls the status), then the download
GET  /jobs/<id>/status      the same as JSON, for the page's script
POST /jobs/<id>/download    the file, while it is kept (JOB_RESULT_MINUTES); recorded

A job someone else asked for is a 404, whoever asks: its file holds what its requester may see. The pages
show a job's kind and progress, never what is in its file.
"""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, send_file
from flask_login import current_user

from . import kinds  # noqa: F401  (registers the app's job kinds in every process that serves the pages)
from ..access import STAFF, require
from ..auth.forms import EmptyForm
from ..database import writes_on_read
from ..extensions import db
from ..models import JobState
from .runner import file_path, kind_label
from .services import job_status, own_job, own_jobs, record_download

bp = Blueprint("jobs", __name__)


def _job_or_404(job_id: str):
    return own_job(job_id, current_user) or abort(404)


@bp.get("/jobs")
@require(*STAFF)
def index():
    return render_template("jobs/index.html", jobs=own_jobs(current_user), kind_label=kind_label, file_path=file_path)


@bp.get("/jobs/<token:job_id>")
@require(*STAFF)
@writes_on_read
def show(job_id: str):
    job = _job_or_404(job_id)
    page = render_template("jobs/show.html", job=job, status=job_status(job), kind_label=kind_label,
                           download_form=EmptyForm(), has_file=file_path(job) is not None)
    db.session.commit()  # let go of the write lock at once (SQLite): the job itself is writing its progress
    return page


@bp.get("/jobs/<token:job_id>/status")
@require(*STAFF)
@writes_on_read
def status(job_id: str):
    response = jsonify(job_status(_job_or_404(job_id)))
    db.session.commit()  # as show(): hold no lock while the page polls
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<token:job_id>/download")
@require(*STAFF)
def download(job_id: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    job = _job_or_404(job_id)
    path = file_path(job)
    if job.state != JobState.DONE or path is None:
        abort(410, description="This file is no longer kept: ask for it again.")
    record_download(job, actor=current_user)
    db.session.commit()
    response = send_file(path, mimetype=job.file_type, as_attachment=True, download_name=job.file_name,
                         max_age=0, conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"
    return response
