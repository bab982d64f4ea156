"""The pages' forms: corrections, retraining and new waves, promoting or rolling back a model, adding users.

Each answers with a redirect (post/redirect/get), the outcome in the target page's ``message``.
"""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from pipeline.messages import action_name, say
from review.corrections import ReviewError
from review.model_registry import promote, rollback
from review.users import add_user
from web.corrections import Correction, apply_correction
from web.deps import Admin, Reviewer, Web, csrf, local
from web.uploads import receive_wave

router = APIRouter(include_in_schema=False)


def redirect(path: str, message: str | None = None) -> RedirectResponse:
    if message is not None:
        path = f"{path}{'&' if '?' in path else '?'}message={quote(message)}"
    return RedirectResponse(path, status_code=303)


@router.post("/runs/{run_id}/corrections")
def correction_form(
    request: Request,
    run_id: str,
    web: Web,
    username: Reviewer,
    csrf_token: Annotated[str, Form()],
    action: Annotated[str, Form()],
    seen: Annotated[int, Form()],  # required, as for the API (web.corrections.Correction)
    back: Annotated[str, Form()] = "",
    theme: Annotated[str | None, Form()] = None,
    label: Annotated[str | None, Form()] = None,
    target: Annotated[str | None, Form()] = None,
    unit: Annotated[str | None, Form()] = None,
    to: Annotated[str | None, Form()] = None,
    source: Annotated[str | None, Form(alias="from")] = None,  # the theme a move leaves (default: the unit's main one)
    units: Annotated[list[str] | None, Form()] = None,
    event: Annotated[int | None, Form()] = None,
):
    csrf(request, csrf_token)
    if action == "add":  # the unit form's theme list is named "to"
        theme = to
    fields = Correction(
        action=action,
        seen=seen,
        theme=theme,
        label=label,
        target=target,
        sources=[theme] if action == "merge" and theme else None,
        units=units,
        unit=unit,
        to=to,
        event=event,
        **{"from": source},
    )
    try:
        saved = apply_correction(web.store, run_id, username, fields)
        message = say("correction.saved", seq=saved.seq, action=action_name(action))
    except ReviewError as exc:  # shown on the page the reviewer came from, not as an error page
        message = say("correction.not_saved", error=exc)
    return redirect(local(back or f"/runs/{run_id}"), message)


@router.post("/retrain")
def retrain_button(request: Request, web: Web, username: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    return redirect(f"/jobs/{web.jobs.start_retrain(username)}")


@router.post("/waves")
async def classify_button(
    request: Request,
    web: Web,
    username: Admin,
    csrf_token: Annotated[str, Form()],
    wave: UploadFile,
    question: Annotated[str, Form()] = "",
):
    csrf(request, csrf_token)
    declared = int(request.headers.get("content-length") or 0) - len(question) - 1024  # the form's other fields
    path = await receive_wave(wave, declared)
    job = web.jobs.start_classify(path, username, question.strip() or None)
    return redirect(f"/jobs/{job}")


@router.post("/models/{version}/promote")
def promote_button(request: Request, version: str, web: Web, username: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    promote(web.store, version, username, reason="promoted from the web page")
    return redirect("/", say("model.promoted", version=version))


@router.post("/models/rollback")
def rollback_button(request: Request, web: Web, username: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    version = rollback(web.store, username)
    return redirect("/", say("model.rolled_back", version=version))


@router.post("/users")
def users_form(
    request: Request,
    web: Web,
    _: Admin,
    csrf_token: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
):
    csrf(request, csrf_token)
    add_user(web.store, username, password, role)
    return redirect("/", say("user.saved", username=username, role=role))
