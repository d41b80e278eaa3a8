"""``/health`` for monitors (JSON, 200 when healthy, 503 when the database can't be written or
the disk is nearly full) and ``/admin/health`` for admins (the same as a page, with the last
backup's folder and error). What is checked: ``radio.upkeep.health``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from radio.data.users import Role
from radio.upkeep import health
from radio.web.auth import login_required

bp = Blueprint("health", __name__)


@bp.get("/health")
def status() -> tuple[Response, int]:
    report = health.check(current_app.config)
    response = jsonify(report.public())
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if report.ok else 503


@bp.get("/admin/health")
@login_required(Role.ADMIN)
def admin() -> tuple[str, int]:
    report = health.check(current_app.config)
    return render_template("health.html", report=report, data=report.full()), 200
