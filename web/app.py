"""The reviewers' and report writers' web page, and the JSON API behind the same data.

Server-rendered pages (Jinja2, autoescaped: verbatims are untrusted text) with a little JavaScript for the
review queue's keyboard shortcuts. Every change goes through the same functions as ``verbatims review``.
This module only assembles the app; the routes live in ``web/routes/`` (one router per area), what they share
in ``web/deps.py``, and the errors' statuses in ``web/errors.py``.
"""

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from pipeline import settings
from pipeline.errors import UnavailableError
from review.store import Store, reads_only
from web.deps import HERE, WebContext
from web.errors import HANDLERS, typed_error
from web.routes import ROUTERS, shares
from web.session import COOKIE, SESSION_SECONDS

HEADERS = {
    # no page of ours may be framed by another site (clickjacking); X-Frame-Options for older browsers
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# unless a route chose its own (a shared report sends no referrer at all): pages and API answers hold survey
# data, so no browser or proxy cache keeps them, and our addresses are not told to other sites
DEFAULT_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


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
    """Reads the session cookie before each request (its session from the store, in a worker thread: the store
    is not async), writes it back if it changed, and sets the security headers on every answer. A GET only reads:
    its store transactions wait for no other process's write (``review.store.reads_only``)."""
    try:
        if request.method in ("GET", "HEAD"):
            with reads_only():
                return await _with_session(request, call_next)
        return await _with_session(request, call_next)
    except UnavailableError as exc:  # the session's own read or write, outside the routes' error handlers
        return with_headers(request, await typed_error(request, exc))


async def _with_session(request: Request, call_next):
    codec = request.app.state.web.codec
    request.state.session = await run_in_threadpool(codec.load, request.cookies.get(COOKIE))
    response = await call_next(request)
    if request.state.session.changed:
        response.set_cookie(
            COOKIE,
            codec.dump(request.state.session),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            secure=settings.current().https,
        )
    return with_headers(request, response)


def with_headers(request: Request, response):
    response.headers.update(HEADERS)
    if not request.url.path.startswith("/static/"):  # the style sheet and scripts hold no data: cached
        for name, value in DEFAULT_HEADERS.items():
            response.headers.setdefault(name, value)
    return response
