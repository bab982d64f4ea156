"""The admin's erasure buttons (``review.erasure``): delete a run from its page, erase a respondent from the
runs page. Each needs its confirmation box ticked: the pages run no script, so no ``confirm()`` dialog."""

from typing import Annotated

from fastapi import APIRouter, Form, Request

from pipeline.messages import plural, say
from review.erasure import delete_run, erase_respondent
from web.deps import Admin, Web, confirmed, csrf
from web.routes.forms import redirect

router = APIRouter(include_in_schema=False)


@router.post("/runs/{run_id}/supprimer")
def delete_run_button(
    request: Request,
    run_id: str,
    web: Web,
    username: Admin,
    csrf_token: Annotated[str, Form()],
    confirm: Annotated[str | None, Form()] = None,
):
    csrf(request, csrf_token)
    confirmed(confirm)
    erasure = delete_run(web.store, run_id, username)
    web.ranked.forget([run_id])
    return redirect("/", say("erase.run_done", run_id=run_id, removed=erasure.summary()))


@router.post("/repondants/effacer")
def erase_respondent_form(
    request: Request,
    web: Web,
    username: Admin,
    csrf_token: Annotated[str, Form()],
    respondent_id: Annotated[str, Form()],
    confirm: Annotated[str | None, Form()] = None,
):
    csrf(request, csrf_token)
    confirmed(confirm)
    erasure = erase_respondent(web.store, respondent_id.strip(), username)
    web.ranked.forget(erasure.runs)
    done = say("erase.respondent_done", runs=plural(len(erasure.runs), "run"), removed=erasure.summary())
    return redirect("/", done)
