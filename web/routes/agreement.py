"""Agreement between coders: a reviewer codes the units given to them blind, one at a time; the agreement page
gives alpha and kappa, the machine against each reviewer, and the disagreements a third reviewer settles."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.errors import InputError
from review.agreement import OFF_TOPIC_LABEL, agreement, settle
from review.corrections import OFF_TOPIC, RunState, load_state
from review.double_coding import code, tasks
from web.deps import Reviewer, Viewer, Web, csrf

router = APIRouter(include_in_schema=False)


def theme_choices(state: RunState) -> list[tuple[str, str]]:
    """(theme id, label) a coder chooses from: the largest themes first, "Autres" then off-topic last."""
    sizes = {t: len(state.members(t)) for t in state.themes}
    ordered = sorted(state.themes, key=lambda t: (t == "autres", -sizes[t], state.themes[t].label))
    return [(t, state.themes[t].label) for t in ordered] + [(OFF_TOPIC, OFF_TOPIC_LABEL)]


def back_to(path: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?message={quote(message)}", status_code=303)


@router.get("/runs/{run_id}/coding", response_class=HTMLResponse)
def coding_page(request: Request, run_id: str, web: Web, username: Reviewer, unit: str = "", message: str = ""):
    mine = tasks(web.store, run_id, username)
    todo = [t for t in mine if t.themes is None]
    shown = next((t for t in mine if t.unit_id == unit and not t.locked), todo[0] if todo else None)
    state = load_state(web.store, run_id)
    return web.page(
        request,
        "coding.html",
        run_id=run_id,
        tasks=mine,
        todo=len(todo),
        shown=shown,
        choices=theme_choices(state),
        labels={**{t: s.label for t, s in state.themes.items()}, OFF_TOPIC: OFF_TOPIC_LABEL},
        message=message,
    )


@router.post("/runs/{run_id}/coding")
def coding_form(
    request: Request,
    run_id: str,
    web: Web,
    username: Reviewer,
    csrf_token: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    main: Annotated[str, Form()] = "",
    also: Annotated[list[str] | None, Form()] = None,
):
    csrf(request, csrf_token)
    try:
        code(web.store, run_id, unit, username, [main, *(also or [])])
        message = "Idée codée."
    except InputError as exc:  # shown on the coding page, not as an error page
        message = f"Non enregistré : {exc}"
    return back_to(f"/runs/{run_id}/coding", message)


@router.get("/runs/{run_id}/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, run_id: str, web: Web, username: Viewer, message: str = ""):
    report = agreement(web.store, run_id)
    return web.page(
        request,
        "agreement.html",
        run_id=run_id,
        report=report,
        choices=theme_choices(load_state(web.store, run_id)),
        mine=sum(t.themes is None for t in tasks(web.store, run_id, username)),
        message=message,
    )


@router.post("/runs/{run_id}/agreement/settle")
def settle_form(
    request: Request,
    run_id: str,
    web: Web,
    username: Reviewer,
    csrf_token: Annotated[str, Form()],
    unit: Annotated[str, Form()],
    seen: Annotated[int, Form()],
    main: Annotated[str, Form()] = "",
    also: Annotated[list[str] | None, Form()] = None,
):
    csrf(request, csrf_token)
    try:
        event = settle(web.store, run_id, unit, username, [main, *(also or [])], seen)
        message = f"#{event.seq} désaccord tranché."
    except InputError as exc:
        message = f"Non enregistré : {exc}"
    return back_to(f"/runs/{run_id}/agreement", message)
