"""The theme page's bulk corrections (one event for many units, undone in one step) and the units most like one,
which the page selects in one click. The JSON API takes a bulk correction as any other (``action: bulk``)."""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from review.corrections import ReviewError
from review.similar import most_similar
from web.corrections import Correction, apply_correction
from web.deps import Reviewer, Viewer, Web, csrf, local
from web.routes.forms import redirect

router = APIRouter()

# What a bulk correction did, as the page tells the reviewer: {n} units, {label} the theme they went to
DONE = {
    "move": "{n} {ideas} déplacée{s} vers « {label} »",
    "add": "« {label} » ajouté à {n} {ideas}",
    "confirm": "{n} {ideas} confirmée{s}",
    "off_topic": "{n} {ideas} marquée{s} hors sujet",
}


@router.post("/runs/{run_id}/bulk", include_in_schema=False)
def bulk_form(
    request: Request,
    run_id: str,
    web: Web,
    username: Reviewer,
    csrf_token: Annotated[str, Form()],
    seen: Annotated[int, Form()],
    operation: Annotated[str, Form()],
    back: Annotated[str, Form()] = "",
    units: Annotated[list[str] | None, Form()] = None,
    to: Annotated[str | None, Form()] = None,
    source: Annotated[str | None, Form(alias="from")] = None,
):
    """Apply one operation to the units ticked on a theme page; back there with what was done and how to undo it."""
    csrf(request, csrf_token)
    back = local(back or f"/runs/{run_id}")
    fields = Correction(action="bulk", seen=seen, units=units or [], to=to or None, operation=operation, **{"from": source})
    try:
        saved = apply_correction(web.store, run_id, username, fields)
    except ReviewError as exc:  # shown on the theme page, the selection still to correct
        return redirect(back, f"Non enregistré : {exc}")
    n, theme = len(saved.payload["items"]), web.ranked.get(run_id).state.themes.get(to or "")
    plural = "s" if n > 1 else ""
    done = DONE[operation].format(n=n, ideas=f"idée{plural}", s=plural, label=theme and theme.label)
    return redirect(f"{back}{'&' if '?' in back else '?'}undo={saved.seq}", f"#{saved.seq} enregistré : {done}")


@router.get("/api/runs/{run_id}/units/{unit_id}/similar", tags=["review"])
def api_similar(
    run_id: str,
    unit_id: str,
    web: Web,
    _: Viewer,
    n: int = 20,
    theme: str | None = None,
    exclude: Annotated[list[str] | None, Query()] = None,
) -> dict:
    """The ``n`` units of the run closest in meaning to this one (cosine of their sentence vectors), closest first:
    with ``theme``, among that theme's units only; never the unit itself nor those in ``exclude`` (already chosen)."""
    return {"unit": unit_id, "units": most_similar(web.store, run_id, unit_id, n, theme or None, exclude or ())}
