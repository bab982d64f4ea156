"""Sign in and sign out, and the admin's actions on accounts: each signed-in browser is a session in the store
(``review.sessions``), which these routes open and end; roles are read from the store at each request."""

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.errors import ForbiddenError
from pipeline.messages import plural, say
from review.erasure import erase_user
from review.sessions import end_session, end_sessions, open_session, sweep
from review.throttle import attempt, succeeded
from review.users import authenticate, reset_password, set_disabled
from web.deps import Admin, Web, confirmed, csrf, local
from web.routes.forms import redirect
from web.session import Session, anonymous

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, web: Web, next: str = "/"):
    return web.page(request, "login.html", next=local(next), message=None)


@router.post("/login")
def login(
    request: Request,
    web: Web,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    csrf(request, csrf_token)
    address = request.client.host if request.client else "-"
    lock = attempt(web.store, username, address)
    if lock is not None:  # the password is not even looked at: the right one is refused too while locked
        wait = plural(math.ceil(lock.retry_after / 60), "minute")
        page = web.page(request, "login.html", next=local(next), message=say("login.locked", wait=wait))
        page.status_code = 429
        page.headers["Retry-After"] = str(lock.retry_after)
        return page
    found = authenticate(web.store, username, password)
    if found is None:  # its failure is recorded already
        return web.page(request, "login.html", next=local(next), message=say("login.failed"))
    succeeded(web.store, found.username)
    sweep(web.store)
    if request.state.session.session_id:  # signing in again, as someone else perhaps: the old session ends
        end_session(web.store, request.state.session.session_id)
    signed_in = open_session(web.store, found.username)
    request.state.session = Session(signed_in.username, signed_in.csrf, signed_in.session_id, changed=True)
    return RedirectResponse(local(next), status_code=303)


@router.post("/logout")
def logout(request: Request, web: Web, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    if request.state.session.session_id:
        end_session(web.store, request.state.session.session_id)
    request.state.session = anonymous()
    return RedirectResponse("/login", status_code=303)


def _ended(n: int) -> str:
    return plural(n, "session_ended")


def _not_yourself(username: str, admin: str) -> None:
    """An admin who disabled or removed themselves could lock every admin out of the page."""
    if username.strip() == admin:
        raise ForbiddenError(say("user.not_yourself"))


@router.post("/users/{username}/disable")
def disable_form(request: Request, username: str, web: Web, admin: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    _not_yourself(username, admin)
    ended = set_disabled(web.store, username, True)
    return redirect("/", say("user.disabled", username=username, sessions=_ended(ended)))


@router.post("/users/{username}/enable")
def enable_form(request: Request, username: str, web: Web, _: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    set_disabled(web.store, username, False)
    return redirect("/", say("user.enabled", username=username))


@router.post("/users/{username}/password")
def password_form(
    request: Request,
    username: str,
    web: Web,
    _: Admin,
    csrf_token: Annotated[str, Form()],
    password: Annotated[str, Form()],
):
    csrf(request, csrf_token)
    ended = reset_password(web.store, username, password)
    return redirect("/", say("user.password_reset", username=username, sessions=_ended(ended)))


@router.post("/users/{username}/end-sessions")
def end_sessions_form(request: Request, username: str, web: Web, _: Admin, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    ended = end_sessions(web.store, username)
    return redirect("/", say("user.sessions_ended", username=username, sessions=_ended(ended)))


@router.post("/users/{username}/remove")
def remove_form(
    request: Request,
    username: str,
    web: Web,
    admin: Admin,
    csrf_token: Annotated[str, Form()],
    confirm: Annotated[str | None, Form()] = None,
):
    csrf(request, csrf_token)
    _not_yourself(username, admin)
    confirmed(confirm)
    ended = erase_user(web.store, username, admin).removed["sessions"]  # logged in the erasures table
    return redirect("/", say("user.removed", username=username, sessions=_ended(ended)))
