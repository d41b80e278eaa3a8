"""``/api/worker/...``: the endpoints a worker on another machine uses (#17).

Opened only by ``Authorization: Bearer TOKEN`` with a live worker token (``radio
worker-token add``); a logged-in session opens nothing here, and a token opens nothing
else (it is checked only by this blueprint). Being a token API that browsers never send by
themselves, it is exempt from the session CSRF check (``radio.web.http.csrf``). JSON in and
out; what is decided is in ``radio.jobs.handoff``.

- ``GET settings``: what the worker must process with to match the archive's own results;
- ``POST episodes/ID/lease`` (take), ``.../lease/renew``, ``DELETE .../lease`` (give back);
- ``GET episodes/ID/original``: the original, with byte ranges (resumable), its SHA-256 in
  ``X-Content-SHA256``;
- ``GET episodes/ID/uploads``: what was received so far; ``PUT .../uploads/NAME?offset=N``
  with ``X-Chunk-SHA256``: one chunk;
- ``POST episodes/ID/commit``: apply the manifest (atomic, idempotent);
  ``POST episodes/ID/finish``: the archive runs the light steps; ``POST episodes/ID/fail``;
- ``POST episodes/ID/retranscription/lease``, ``.../commit``, ``.../fail``, ``.../finish``:
  the same for transcribing a published episode again (``radio.jobs.remote_retranscribe``);
- ``POST episodes/ID/rerun/lease``, ``.../progress``, ``.../commit``, ``.../fail``,
  ``.../finish``: the same for a re-run's new listening copies (``radio.jobs.remote_rerun``);
- ``POST recover``: queue again what a vanished worker held (its lease ran out).
"""

from __future__ import annotations

import re
import threading

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from flask_babel import gettext

from radio.data.episodes import EpisodeNotFound, get_episode
from radio.data.worker_tokens import token_worker
from radio.db import get_db, utcnow
from radio.jobs import (
    handoff,
    remote_diarize,
    remote_rerun,
    remote_retranscribe,
    remote_uploads,
    tasks,
)
from radio.media import store
from radio.web.http import fileserve

bp = Blueprint("workers", __name__, url_prefix="/api/worker")
_WORKER_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@bp.before_request
def require_worker_token() -> Response | None:
    """Every endpoint here: a live worker token, and a worker id to hold leases under."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    name = token_worker(get_db(), token.strip(), utcnow()) if scheme == "Bearer" else None
    if name is None:
        response = jsonify(error=gettext("This worker token is unknown or was revoked."))
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="radio worker"'
        return response
    worker_id = request.headers.get("X-Worker-Id") or "worker"
    if not _WORKER_ID.match(worker_id):
        abort(400, gettext("The X-Worker-Id header is not a worker id."))
    g.worker_owner = f"remote/{name}/{worker_id}"
    return None


@bp.errorhandler(remote_uploads.HandoffError)
def refused(error: remote_uploads.HandoffError) -> tuple[Response, int]:
    body = {"error": str(error)}
    if isinstance(error, remote_uploads.ChunkRefused):
        body["bytes"] = error.have
    return jsonify(body), error.status


@bp.errorhandler(EpisodeNotFound)
def missing(_error: EpisodeNotFound) -> tuple[Response, int]:
    return jsonify(error=gettext("There is no such episode.")), 404


@bp.get("/settings")
def settings() -> Response:
    return jsonify(handoff.settings(current_app.config))


@bp.post("/episodes/<int:episode_id>/lease")
def take_lease(episode_id: int) -> tuple[Response, int]:
    lent = handoff.take(get_db(), current_app.config, episode_id, g.worker_owner)
    if lent is None:
        return jsonify(error=gettext("Another worker is processing this episode.")), 409
    return jsonify(lent), 200


@bp.post("/episodes/<int:episode_id>/lease/renew")
def renew_lease(episode_id: int) -> Response:
    said = (request.get_json(silent=True) or {}).get("progress")
    progress = None if said is None else float(said)
    handoff.renew(get_db(), current_app.config, episode_id, g.worker_owner, progress)
    return jsonify(ok=True)


@bp.delete("/episodes/<int:episode_id>/lease")
def give_back(episode_id: int) -> Response:
    handoff.give_back(get_db(), episode_id, g.worker_owner)
    return jsonify(ok=True)


@bp.get("/episodes/<int:episode_id>/original")
def original(episode_id: int) -> Response:
    episode = get_episode(get_db(), episode_id)
    path = store.resolve(current_app.config["HOME"], episode.source_path or "")
    if not path.is_file():
        return jsonify(error=gettext("The original is missing from the media folder.")), 404
    snap = fileserve.FileSnapshot.open(path, "application/octet-stream")
    status, headers, body = fileserve.respond(request.environ, snap, "no-store")
    headers.append(("X-Content-SHA256", episode.source_sha256))
    return Response(body, status, headers, direct_passthrough=True)


@bp.get("/episodes/<int:episode_id>/uploads")
def uploads(episode_id: int) -> Response:
    have = remote_uploads.uploaded(current_app.config["HOME"], episode_id, g.worker_owner)
    return jsonify(files=have)


@bp.put("/episodes/<int:episode_id>/uploads/<name>")
def upload_chunk(episode_id: int, name: str) -> Response:
    offset = request.args.get("offset", type=int)
    if offset is None or offset < 0:
        abort(400, gettext("Say where the chunk goes: ?offset=N."))
    size = remote_uploads.receive_chunk(
        get_db(),
        current_app.config["HOME"],
        episode_id,
        g.worker_owner,
        name,
        offset,
        request.get_data(cache=False),
        request.headers.get("X-Chunk-SHA256"),
    )
    return jsonify(bytes=size)


@bp.post("/episodes/<int:episode_id>/commit")
def commit(episode_id: int) -> Response:
    manifest = request.get_json(silent=True)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("renditions"), list):
        abort(400, gettext("The commit needs a manifest (JSON)."))
    home = current_app.config["HOME"]
    return jsonify(handoff.commit(get_db(), home, episode_id, g.worker_owner, manifest))


@bp.post("/episodes/<int:episode_id>/diarization")
def diarization(episode_id: int) -> Response:
    """Who speaks when in the original, for a transcript the archive already has."""
    sent = request.get_json(silent=True)
    if not isinstance(sent, dict):
        abort(400, gettext("The speakers come as JSON."))
    return jsonify(remote_diarize.keep_sent(get_db(), episode_id, g.worker_owner, sent))


@bp.post("/episodes/<int:episode_id>/finish")
def finish(episode_id: int) -> tuple[Response, int]:
    """Take the lease over and run the light steps here, beside the request (202)."""
    handoff.hand_to_archive(get_db(), current_app.config, episode_id, g.worker_owner)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=tasks.run_episode, args=(app, episode_id), daemon=True).start()
    return jsonify(ok=True), 202


@bp.post("/episodes/<int:episode_id>/fail")
def fail(episode_id: int) -> Response:
    sent = request.get_json(silent=True) or {}
    step, message = str(sent.get("step") or ""), str(sent.get("message") or "")[:2000]
    handoff.fail(get_db(), episode_id, g.worker_owner, step, message)
    return jsonify(ok=True)


@bp.post("/episodes/<int:episode_id>/retranscription/lease")
def take_retranscription(episode_id: int) -> tuple[Response, int]:
    lent = remote_retranscribe.take(get_db(), current_app.config, episode_id, g.worker_owner)
    if lent is None:
        return jsonify(error=gettext("Another worker is processing this episode.")), 409
    return jsonify(lent), 200


@bp.post("/episodes/<int:episode_id>/retranscription/commit")
def commit_retranscription(episode_id: int) -> Response:
    manifest = request.get_json(silent=True)
    if not isinstance(manifest, dict):
        abort(400, gettext("The commit needs a manifest (JSON)."))
    home = current_app.config["HOME"]
    return jsonify(remote_retranscribe.commit(get_db(), home, episode_id, g.worker_owner, manifest))


@bp.post("/episodes/<int:episode_id>/retranscription/fail")
def fail_retranscription(episode_id: int) -> Response:
    message = str((request.get_json(silent=True) or {}).get("message") or "")[:2000]
    remote_retranscribe.fail(get_db(), episode_id, g.worker_owner, message)
    return jsonify(ok=True)


@bp.post("/episodes/<int:episode_id>/retranscription/finish")
def finish_retranscription(episode_id: int) -> tuple[Response, int]:
    """Take the lease over; swap the new transcript in here, with what follows (202)."""
    handoff.hand_to_archive(get_db(), current_app.config, episode_id, g.worker_owner)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=tasks.run_retranscription, args=(app, episode_id), daemon=True).start()
    return jsonify(ok=True), 202


@bp.post("/episodes/<int:episode_id>/rerun/lease")
def take_rerun(episode_id: int) -> tuple[Response, int]:
    lent = remote_rerun.take(get_db(), current_app.config, episode_id, g.worker_owner)
    if lent is None:
        return jsonify(error=gettext("Another worker is processing this episode.")), 409
    return jsonify(lent), 200


@bp.post("/episodes/<int:episode_id>/rerun/progress")
def rerun_progress(episode_id: int) -> Response:
    said = (request.get_json(silent=True) or {}).get("progress")
    if not isinstance(said, int | float):
        abort(400, gettext("Say how far it has come: progress, from 0 to 1."))
    remote_rerun.report(get_db(), episode_id, g.worker_owner, float(said))
    return jsonify(ok=True)


@bp.post("/episodes/<int:episode_id>/rerun/commit")
def commit_rerun(episode_id: int) -> Response:
    manifest = request.get_json(silent=True)
    if not isinstance(manifest, dict):
        abort(400, gettext("The commit needs a manifest (JSON)."))
    home = current_app.config["HOME"]
    return jsonify(remote_rerun.commit(get_db(), home, episode_id, g.worker_owner, manifest))


@bp.post("/episodes/<int:episode_id>/rerun/fail")
def fail_rerun(episode_id: int) -> Response:
    message = str((request.get_json(silent=True) or {}).get("message") or "")[:2000]
    remote_rerun.fail(get_db(), current_app.config, episode_id, g.worker_owner, message)
    return jsonify(ok=True)


@bp.post("/episodes/<int:episode_id>/rerun/finish")
def finish_rerun(episode_id: int) -> tuple[Response, int]:
    """Take the lease over; tag and swap the new files in here, with what follows (202)."""
    handoff.hand_to_archive(get_db(), current_app.config, episode_id, g.worker_owner)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threading.Thread(target=remote_rerun.finish_here, args=(app, episode_id), daemon=True).start()
    return jsonify(ok=True), 202


@bp.post("/episodes/<int:episode_id>/run/<kind>")
def run_here(episode_id: int, kind: str) -> tuple[Response, int]:
    """Work a worker took from the shared queue but leaves to the archive (a
    retranscription, a re-run, new file tags): done here, beside the request."""
    if kind not in handoff.RUN_HERE:
        abort(404)
    task = current_app.extensions[f"radio.{kind}"]  # the queue's own task, run here
    threading.Thread(target=task.call_local, args=(episode_id,), daemon=True).start()
    return jsonify(ok=True), 202


@bp.post("/recover")
def recover() -> Response:
    """Queue again the episodes whose worker vanished (the lease ran out)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return jsonify(queued=tasks.recover(app, include_queued=False))
