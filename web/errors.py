"""Errors answered by type, as JSON for the API and API clients, as an error page for browsers.

One mapping serves the review loop's errors and the web's own checks: the status follows the error's class
(the most specific one listed), never its message.
"""

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from pipeline.errors import (
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
    VerbatimsError,
)
from pipeline.messages import say

STATUS: dict[type[VerbatimsError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    TooLargeError: 413,
    InputError: 400,
    ForbiddenError: 403,
    UnavailableError: 503,
}
RETRY_AFTER_SECONDS = 30  # a store locked by another process is usually free again within this


def status_of(exc: VerbatimsError) -> int:
    """The status of the nearest listed class in the error's MRO (an unknown unit is a NotFoundError: 404)."""
    return next(STATUS[kind] for kind in type(exc).__mro__ if kind in STATUS)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_response(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return request.app.state.web.templates.TemplateResponse(
        request, "error.html", {"message": message, "status": status, "user": None}, status_code=status
    )


async def typed_error(request: Request, exc: VerbatimsError) -> Response:
    response = error_response(request, status_of(exc), str(exc))
    if isinstance(exc, UnavailableError):
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 401 and not wants_json(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return error_response(request, exc.status_code, str(exc.detail))


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))} : {_problem(e)}" for e in exc.errors())
    return error_response(request, 422, say("request.malformed", problems=problems))


def _problem(error: dict) -> str:
    """A missing field, the usual case, in French; pydantic's other messages are English and passed on as they are."""
    return say("request.missing") if error["type"] == "missing" else error["msg"]


HANDLERS = {**dict.fromkeys(STATUS, typed_error), HTTPException: http_error, RequestValidationError: validation_error}
