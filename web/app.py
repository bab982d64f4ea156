"""The reviewers' and report writers' web page, and the JSON API behind the same data.

Server-rendered pages (Jinja2, autoescaped: verbatims are untrusted text) with a little JavaScript for the
review queue's keyboard shortcuts. Every change goes through the same functions as ``verbatims review``.
This module only assembles the app; the routes live in ``web/routes/`` (one router per area), what they share
in ``web/deps.py``, and the errors' statuses in ``web/errors.py``.
"""

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from review.store import Store
from web.deps import HERE, WebContext
from web.errors import HANDLERS
from web.routes import ROUTERS, shares
from web.session import COOKIE, SESSION_SECONDS

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
}


def create_app(store: Store | None = None, secret: str | None = None) -> FastAPI:
    app = FastAPI(
        title="verbatims",
        description="Ranked themes of French survey answers, their review and retraining.",
        version="0.1.0",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: blocked offline and by our CSP
        redoc_url=None,
    )
    app.state.web = WebContext(store or Store(), secret)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(sessions)
    for kind, handler in HANDLERS.items():
        app.add_exception_handler(kind, handler)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(shares.router)
    shares.install(app.state.web)  # the run page's sharing section reads the run's links through it
    return app


async def sessions(request: Request, call_next):
    """Reads the signed session cookie before each request, writes it back if it changed, and sets the
    security headers on every answer."""
    codec = request.app.state.web.codec
    request.state.session = codec.load(request.cookies.get(COOKIE))
    response = await call_next(request)
    if request.state.session.changed:
        response.set_cookie(
            COOKIE, codec.dump(request.state.session), max_age=SESSION_SECONDS, httponly=True, samesite="strict"
        )
    response.headers.update(HEADERS)
    return response
