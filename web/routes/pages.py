"""The pages people read: runs, a run's ranked themes, a theme's verbatims, the review queue, the report, a job."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.significance import MIN_BASE
from review.guard import unmet
from review.model_registry import list_models
from review.queue import queue_view
from review.retrain import any_reviewed
from review.users import ROLES, list_users
from web.deps import Reviewer, Viewer, Web
from web.views import (
    merged_away,
    ranked_nets,
    report_context,
    runs_list,
    segment_counts,
    segment_values,
    theme_view,
    title_of,
)

router = APIRouter(include_in_schema=False)
QUEUE_PAGE_ITEMS = 50  # a sitting's worth: the page is reloaded for more (and for a fresh order)


@router.get("/", response_class=HTMLResponse)
def runs_page(request: Request, web: Web, _: Viewer, message: str = ""):
    admin = request.state.role == "admin"
    rows, promoted = list_models(web.store)
    # admin buttons appear only when they can work; otherwise one line says why
    in_service = next((r for r in rows if r.version == promoted), None)
    apply_blocked = None if in_service is None else unmet(in_service.metrics)
    return web.page(
        request,
        "runs.html",
        runs=runs_list(web.store),
        models=(rows, promoted),
        below_guard={r.version: unmet(r.metrics) for r in rows},
        can_retrain=admin and any_reviewed(web.store),
        apply_blocked=apply_blocked,
        users=list_users(web.store) if admin else [],
        roles=ROLES,
        message=message,
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, web: Web, _: Viewer, segment: str = "", message: str = ""):
    """A run's nets and codes ranked; ``segment`` ("column=value") ranks them on that segment's respondents alone,
    with its base, its quotes and each code's interval and test against the rest."""
    reviewed = web.ranked.get(run_id)
    column, _, value = segment.partition("=")
    counts = segment_counts(reviewed, column, value) if segment else None
    return web.page(
        request,
        "run.html",
        run=reviewed.stored.run,
        title=title_of(reviewed.stored.run),
        nets=ranked_nets(reviewed, counts),
        segment=counts,
        min_base=MIN_BASE,
        version=reviewed.state.version,
        segment_column=column,
        segment_value=value,
        segment_values=segment_values(reviewed),
        message=message,
        jobs=web.jobs.recent(),
    )


@router.get("/runs/{run_id}/themes/{theme_id}", response_class=HTMLResponse)
def theme_page(
    request: Request,
    run_id: str,
    theme_id: str,
    web: Web,
    _: Viewer,
    q: str = "",
    message: str = "",
    merge: str = "",
    undo: int | None = None,
    merged: str = "",
):
    """A theme's units, closest first, to correct one by one or many at once; ``merge`` asks to confirm merging it
    into that theme, ``undo`` offers to undo that correction (the bulk correction just made). The address of a
    theme merged since leads to the theme it went into, which then says so (``merged``)."""
    reviewed = web.ranked.get(run_id)
    gone = merged_away(web.store, reviewed, theme_id)
    if gone is not None:  # an old address, bookmarked or linked before the merge: the theme it went into
        return RedirectResponse(f"/runs/{run_id}/themes/{gone.into}?merged={quote(theme_id)}", status_code=303)
    shown = theme_view(reviewed, theme_id, q, merge)
    came = merged_away(web.store, reviewed, merged) if merged else None
    note = came.note(reviewed.themes) if came is not None and came.into == theme_id else ""
    return web.page(
        request,
        "theme.html",
        run=reviewed.stored.run,
        title=title_of(reviewed.stored.run),
        **shown,
        message=message,
        undo=undo,
        merged_note=note,
    )


@router.get("/runs/{run_id}/queue", response_class=HTMLResponse)
def queue_page(request: Request, run_id: str, web: Web, _: Reviewer):
    """The review queue: each item with its whole answer and why the machine put it there; every theme can be
    chosen (keys for the likeliest, the picker for all). The page keeps the version it read for its writes."""
    view = queue_view(web.store, run_id, limit=QUEUE_PAGE_ITEMS, fresh=False)
    reviewed = web.ranked.get(run_id)
    return web.page(
        request,
        "queue.html",
        run=reviewed.stored.run,
        items=view.items,
        version=view.version,
        progress=view.progress,
        themes=reviewed.themes,
    )


@router.get("/runs/{run_id}/report", response_class=HTMLResponse)
def report_page(request: Request, run_id: str, web: Web, _: Viewer):
    return web.page(request, "report.html", **report_context(web.ranked.get(run_id)), standalone=False)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, web: Web, _: Viewer):
    return web.page(request, "job.html", job=web.jobs.get(job_id))
