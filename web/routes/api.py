"""The JSON API under /api: the same runs, themes, queue, corrections and models as the pages.

Changing calls send the session's CSRF token in the X-CSRF-Token header.
"""

from dataclasses import asdict

from fastapi import APIRouter, Request

from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say
from review.model_registry import list_models, promote, rollback
from review.queue import queue_view
from web.corrections import Correction, apply_correction
from web.deps import Admin, Reviewer, Viewer, Web, csrf_header
from web.views import (
    containing,
    model_dict,
    net_dict,
    net_view_dict,
    ranked_nets,
    run_dict,
    runs_list,
    segment_counts,
    theme_dict,
    theme_units,
    unit_dict,
)

router = APIRouter(prefix="/api")


@router.get("/runs", tags=["runs"])
def api_runs(web: Web, _: Viewer) -> list[dict]:
    """Recorded runs, latest first."""
    return runs_list(web.store)


@router.get("/runs/{run_id}", tags=["runs"])
def api_run(run_id: str, web: Web, _: Viewer, segment: str = "") -> dict:
    """A run as reviewed, with its nets ranked (each counts a respondent once, whatever codes they carry).

    ``segment`` ("column=value"), as on the run page: the nets ranked on that segment's respondents, each with its
    codes in the segment's order, their counts, quotes of the segment and their interval and test against the rest."""
    reviewed = web.ranked.get(run_id)
    body = {
        **run_dict(reviewed.stored.run),
        "version": reviewed.state.version,
        "reviewed_units": len(reviewed.state.reviewed),
        "themes": len(reviewed.themes),
        "nets": [net_dict(n) for n in reviewed.nets],
    }
    if segment:
        column, _, value = segment.partition("=")
        counts = segment_counts(reviewed, column, value)
        body["segment"] = {"column": column, "value": value, "base": counts.base}
        body["nets"] = [net_view_dict(v) for v in ranked_nets(reviewed, counts)]
    return body


@router.get("/runs/{run_id}/themes", tags=["runs"])
def api_themes(run_id: str, web: Web, _: Viewer) -> list[dict]:
    """Ranked themes (codes) as reviewed: share of respondents, keywords, quotes, segment shares, change, the net
    each rolls up into (``net_id``, ``net_label``; the nets themselves are in ``/api/runs/{run_id}``), coherence and
    ``mixed`` (still incoherent after refinement, ranked below the coherent themes)."""
    return [theme_dict(t) for t in web.ranked.get(run_id).themes]


@router.get("/runs/{run_id}/themes/{theme_id}/units", tags=["runs"])
def api_units(run_id: str, theme_id: str, web: Web, _: Viewer, q: str = "") -> list[dict]:
    reviewed = web.ranked.get(run_id)
    if theme_id not in reviewed.state.themes:
        raise NotFoundError(say("theme.unknown", theme=theme_id, run_id=run_id))
    return [unit_dict(u) for u in containing(theme_units(reviewed, theme_id), q)]


@router.get("/runs/{run_id}/queue", tags=["review"])
def api_queue(run_id: str, web: Web, _: Reviewer, limit: int = 20) -> dict:
    """The units to review first (whole answer, segments, the machine's suggestion and why, every theme likeliest
    first), the run version they were read at (send it as ``seen`` with corrections) and the review's progress."""
    if not 1 <= limit <= 1000:
        raise InputError(say("api.limit"))
    view = queue_view(web.store, run_id, limit, fresh=False)
    return {"version": view.version, "items": [asdict(i) for i in view.items], "progress": asdict(view.progress)}


@router.post("/runs/{run_id}/corrections", tags=["review"])
def api_correct(request: Request, run_id: str, body: Correction, web: Web, username: Reviewer) -> dict:
    """Save one correction. Send the session's CSRF token in the X-CSRF-Token header."""
    csrf_header(request)
    saved = apply_correction(web.store, run_id, username, body)
    return {"event": saved.seq, "version": saved.seq, "action": saved.action, "payload": saved.payload}


@router.get("/models", tags=["models"])
def api_models(web: Web, _: Viewer) -> dict:
    rows, promoted = list_models(web.store)
    return {"promoted": promoted, "models": [model_dict(r) for r in rows]}


@router.post("/retrain", tags=["models"])
def api_retrain(request: Request, web: Web, username: Admin) -> dict:
    csrf_header(request)
    return {"job": web.jobs.start_retrain(username)}


@router.post("/models/{version}/promote", tags=["models"])
def api_promote(request: Request, version: str, web: Web, username: Admin) -> dict:
    csrf_header(request)
    promote(web.store, version, username, reason="promoted through the API")
    return {"promoted": version}


@router.post("/models/rollback", tags=["models"])
def api_rollback(request: Request, web: Web, username: Admin) -> dict:
    csrf_header(request)
    return {"promoted": rollback(web.store, username)}


@router.get("/jobs/{job_id}", tags=["models"])
def api_job(job_id: str, web: Web, _: Viewer) -> dict:
    return vars(web.jobs.get(job_id))
