"""Sign in and sign out: the session cookie carries the user's name; roles are read from the store each request."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pipeline.messages import say
from review.users import authenticate
from web.deps import Web, csrf, local
from web.session import Session

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
    found = authenticate(web.store, username, password)
    if found is None:
        return web.page(request, "login.html", next=local(next), message=say("login.failed"))
    request.state.session = Session(found.username, request.state.session.csrf, changed=True)
    return RedirectResponse(local(next), status_code=303)


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form()]):
    csrf(request, csrf_token)
    request.state.session = Session(None, request.state.session.csrf, changed=True)
    return RedirectResponse("/login", status_code=303)
