"""What every route shares, built once per app and kept on ``app.state.web``, and the checks routes depend on.

Routes reach the shared things through FastAPI dependencies (``Web``, ``Viewer``, ``Reviewer``, ``Admin``)
rather than closures, so each area of the site can live in its own router module.
No ``from __future__ import annotations`` here: FastAPI reads the dependencies' annotations at run time.
"""

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pipeline.errors import ForbiddenError, InputError
from pipeline.messages import say
from review.store import Store
from review.users import can, user_role
from web.jobs import Jobs
from web.ranked import RankedRuns
from web.session import Session, SessionCodec, same_token

HERE = Path(__file__).parent


class WebContext:
    """The store, session codec, templates, background jobs and ranked runs of one app."""

    def __init__(self, store: Store, secret: str | None = None):
        self.store = store
        self.codec = SessionCodec(store, secret)
        self.jobs = Jobs(store)
        self.ranked = RankedRuns(store)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["say"] = say  # every page's texts from the catalogue

    def page(self, request: Request, name: str, **context: Any) -> HTMLResponse:
        """A template rendered for the signed-in user (the layout shows who, and forms carry the CSRF token)."""
        context.update(
            user=request.state.session.username, role=getattr(request.state, "role", None), csrf=request.state.session.csrf
        )
        return self.templates.TemplateResponse(request, name, context)


async def context(request: Request) -> WebContext:
    return request.app.state.web


Web = Annotated[WebContext, Depends(context)]


def user(needed: str):
    """A dependency giving the signed-in user's name if their role allows ``needed``; it notes the role for pages."""

    def check(request: Request, web: Web) -> str:
        session: Session = request.state.session
        role = user_role(web.store, session.username) if session.username else None
        if role is None:
            raise HTTPException(401, say("web.sign_in"))  # pages answer it with the sign-in page, the API with 401
        if not can(role, needed):
            raise ForbiddenError(say("web.role", needed=needed, role=role))
        request.state.role = role
        return session.username

    return check


Viewer = Annotated[str, Depends(user("viewer"))]
Reviewer = Annotated[str, Depends(user("reviewer"))]
Admin = Annotated[str, Depends(user("admin"))]


def csrf(request: Request, token: str | None) -> None:
    """Checked inside each changing route, after its form is read, so a malformed form still answers 422 first."""
    if not same_token(token, request.state.session.csrf):
        raise ForbiddenError(say("web.csrf"))


def confirmed(confirm: str | None) -> None:
    """What cannot be undone (a deletion, an erasure, a removal) needs the page's confirmation box ticked."""
    if confirm != "oui":
        raise InputError(say("erase.unconfirmed"))


def csrf_header(request: Request) -> None:
    """The API's CSRF check: scripts send the session's token in the X-CSRF-Token header."""
    csrf(request, request.headers.get("x-csrf-token"))


def local(path: str) -> str:
    """Only this site's paths: a redirect target from a form must not send anyone elsewhere."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"
