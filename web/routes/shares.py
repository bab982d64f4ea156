"""Read-only links to a run's report (``review.shares``): admins make and revoke them from the run page;
whoever holds one reads the report at ``/partage/{token}`` and downloads it, and nothing else: the token opens
these two routes only, every other page and the API still ask for a session."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from pipeline import settings
from pipeline.errors import NotFoundError
from pipeline.messages import plural, say
from review.shares import (
    DAY_CHOICES,
    DEFAULT_DAYS,
    ExpiredLinkError,
    RevokedLinkError,
    ShareLink,
    address,
    create_link,
    list_links,
    resolve,
    revoke_link,
)
from review.store import now
from web.deps import Admin, Web, WebContext, csrf
from web.routes.downloads import run_file
from web.routes.forms import redirect
from web.views import report_context

router = APIRouter(include_in_schema=False)

# A shared page is for its reader alone: kept out of search engines and caches, and the address (the token)
# is not sent as the Referer to any site the report links to
PRIVATE = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class LinkView:
    """A link as the run page lists it: its state at the time of the page, dates in French."""

    link: ShareLink
    state: str  # "active", "expired" or "revoked"

    @property
    def state_label(self) -> str:
        return say(f"share.state.{self.state}")

    @property
    def created(self) -> str:
        return when(self.link.created_at)

    @property
    def expires(self) -> str:
        return when(self.link.expires_at)


@dataclass(frozen=True)
class SharePanel:
    """The run page's sharing section: the run's links and the lives an admin can give a new one."""

    links: list[LinkView]
    choices: list[tuple[int, str]]  # (days, "7 jours")
    default_days: int = DEFAULT_DAYS


def when(moment: datetime) -> str:
    return say("share.when", at=moment)


def share_panel(request: Request, run_id: str) -> SharePanel:
    """A template global (set by ``install``), so that the run page's route need not know about sharing."""
    at = now()
    links = [LinkView(link, link.state(at)) for link in list_links(request.app.state.web.store, run_id)]
    return SharePanel(links, [(days, plural(days, "day")) for days in DAY_CHOICES])


def install(web: WebContext) -> None:
    web.templates.env.globals["share_panel"] = share_panel


def share_url(request: Request, token: str) -> str:
    """The address to send: under VERBATIMS_WEB_URL when set (the server behind a proxy), else as reached."""
    return address(token, settings.current().web_url or str(request.base_url))


@router.post("/runs/{run_id}/partages", response_class=HTMLResponse)
def create_form(
    request: Request,
    run_id: str,
    web: Web,
    username: Admin,
    csrf_token: Annotated[str, Form()],
    days: Annotated[int, Form()] = DEFAULT_DAYS,
    note: Annotated[str, Form()] = "",
):
    """Answers with the new link's address on a page of its own rather than a redirect: the token is shown
    this once and never travels in a URL of the admin's history."""
    csrf(request, csrf_token)
    made = create_link(web.store, run_id, username, days, note)
    page = web.page(
        request,
        "share_created.html",
        run_id=run_id,
        view=LinkView(made.link, "active"),
        url=share_url(request, made.token),
        message=say("share.created", link_id=made.link.link_id, at=made.link.expires_at),
    )
    page.headers.update(PRIVATE)
    return page


@router.post("/runs/{run_id}/partages/{link_id}/revoquer")
def revoke_form(request: Request, run_id: str, link_id: int, web: Web, _: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    revoke_link(web.store, link_id, run_id)
    return redirect(f"/runs/{run_id}", say("share.revoked_done", link_id=link_id))


def reader(request: Request) -> None:
    """A link's reader gets no session cookie: the shared pages need none, and the reader is nobody we know."""
    request.state.session.changed = False


Reader = Depends(reader)


@router.get("/partage/{token}", response_class=HTMLResponse)  # review.shares.address
def shared_report(request: Request, token: str, web: Web, _: None = Reader):
    try:
        run_id = resolve(web.store, token)
    except (NotFoundError, ExpiredLinkError) as exc:
        return refused(request, web, exc)
    context = report_context(web.ranked.get(run_id))
    return web.templates.TemplateResponse(
        request,
        "shared_report.html",
        {**context, "standalone": True, "shared": True, "token": token, "user": None},
        headers=PRIVATE,
    )


@router.get("/partage/{token}/telecharger/{fmt}")
def shared_download(request: Request, token: str, fmt: str, web: Web, _: None = Reader):
    try:
        run_id = resolve(web.store, token)
    except (NotFoundError, ExpiredLinkError) as exc:
        return refused(request, web, exc)
    try:
        response = run_file(web, run_id, fmt)
    except NotFoundError as exc:  # an unknown format: said in French on the shared page's layout
        return refused(request, web, exc, missing_file=True)
    response.headers.update(PRIVATE)
    return response


def refused(request: Request, web: WebContext, exc: Exception, missing_file: bool = False) -> Response:
    """The link opens nothing: 410 for a link that did (revoked, expired), 404 for one that never did (or for a
    file the report does not have)."""
    status = 410 if isinstance(exc, RevokedLinkError | ExpiredLinkError) else 404
    context = {"refused": str(exc), "status": status, "missing_file": missing_file}
    return web.templates.TemplateResponse(request, "shared_report.html", context, status_code=status, headers=PRIVATE)
