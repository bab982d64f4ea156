"""The reviewers' and report writers' web page, and the JSON API behind the same data.

Server-rendered pages (Jinja2, autoescaped: verbatims are untrusted text) with a little JavaScript for the
review queue's keyboard shortcuts. Every change goes through the same functions as ``verbatims review``.
No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations at run time, and the
role checks they name are local to ``create_app``.
"""

import tempfile
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select

from pipeline.errors import InputError
from pipeline.records import OTHER_ID
from review.corrections import ReviewError, StaleViewError, correct
from review.model_registry import list_models, promote, rollback
from review.queue import review_queue
from review.runs import ReviewedRun, export_reviewed, reviewed_run
from review.store import EventRow, Run, Store
from review.users import ROLES, add_user, authenticate, can, list_users, user_role
from web.jobs import Jobs
from web.session import COOKIE, SESSION_SECONDS, Session, SessionCodec, same_token

HERE = Path(__file__).parent
DOWNLOADS = {"csv": ("themes.csv", "text/csv"), "xlsx": ("themes.xlsx", None), "json": ("themes.json", "application/json")}


class Correction(BaseModel):
    """One correction, as the queue page and API clients send it."""

    action: str = Field(description="rename, merge, split, move, add, off_topic, confirm or undo")
    seen: int | None = Field(None, description="Run version the reviewer's view showed (stale-view check)")
    theme: str | None = None
    label: str | None = None
    target: str | None = None
    sources: list[str] | None = None
    units: list[str] | None = None
    unit: str | None = None
    to: str | None = None
    event: int | None = None


def create_app(store: Store | None = None, secret: str | None = None) -> FastAPI:
    store = store or Store()
    codec = SessionCodec(secret)
    jobs = Jobs(store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    cache: dict[str, tuple[int, ReviewedRun]] = {}  # run -> its latest version seen, ranked
    cache_lock = threading.Lock()
    app = FastAPI(
        title="verbatims",
        description="Ranked themes of French survey answers, their review and retraining.",
        version="0.1.0",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: blocked offline and by our CSP
        redoc_url=None,
    )

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def sessions(request: Request, call_next):
        request.state.session = codec.load(request.cookies.get(COOKIE))
        response = await call_next(request)
        if request.state.session.changed:
            response.set_cookie(
                COOKIE, codec.dump(request.state.session), max_age=SESSION_SECONDS, httponly=True, samesite="strict"
            )
        response.headers["Content-Security-Policy"] = "default-src 'self'; script-src 'self'; style-src 'self'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError):
        status = 409 if isinstance(exc, StaleViewError) else 404 if str(exc).startswith("unknown run") else 400
        return _error(request, status, str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 401 and not _wants_json(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _error(request, 422, f"malformed request: {problems}")

    def _error(request: Request, status: int, message: str) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"message": message, "status": status, "user": None}, status_code=status
        )

    def user(needed: str):
        def check(request: Request) -> str:
            session: Session = request.state.session
            role = user_role(store, session.username) if session.username else None
            if role is None:
                raise HTTPException(401, "sign in first")
            if not can(role, needed):
                raise HTTPException(403, f"this needs the {needed} role; you are {role}")
            request.state.role = role
            return session.username

        return check

    def csrf(request: Request, token: str | None) -> None:
        if not same_token(token, request.state.session.csrf):
            raise HTTPException(403, "the form is out of date or did not come from this site (CSRF check): reload the page")

    def ranked(run_id: str) -> ReviewedRun:
        with store.session() as session:
            store.run(session, run_id)
            version = session.scalar(select(EventRow.seq).where(EventRow.run_id == run_id).order_by(EventRow.seq.desc()))
        with cache_lock:
            if run_id not in cache or cache[run_id][0] != (version or 0):  # older versions are dropped
                cache[run_id] = (version or 0, reviewed_run(store, run_id))
            return cache[run_id][1]

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        context.update(
            user=request.state.session.username, role=getattr(request.state, "role", None), csrf=request.state.session.csrf
        )
        return templates.TemplateResponse(request, name, context)

    # --- sign in --------------------------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/"):
        return page(request, "login.html", next=_local(next), message=None)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf_token: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ):
        csrf(request, csrf_token)
        found = authenticate(store, username, password)
        if found is None:
            return page(request, "login.html", next=_local(next), message="Unknown user or wrong password.")
        request.state.session = Session(found.username, request.state.session.csrf, changed=True)
        return RedirectResponse(_local(next), status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token: Annotated[str, Form()]):
        csrf(request, csrf_token)
        request.state.session = Session(None, request.state.session.csrf, changed=True)
        return RedirectResponse("/login", status_code=303)

    # --- pages ----------------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def runs_page(request: Request, _: Annotated[str, Depends(user("viewer"))], message: str = ""):
        users = list_users(store) if request.state.role == "admin" else []
        return page(
            request, "runs.html", runs=_runs(store), models=list_models(store), users=users, roles=ROLES, message=message
        )

    @app.get("/runs/{run_id}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(
        request: Request, run_id: str, _: Annotated[str, Depends(user("viewer"))], segment: str = "", message: str = ""
    ):
        reviewed = ranked(run_id)
        column, _, value = segment.partition("=")
        if segment and (column not in reviewed.stored.run.segment_columns):
            raise HTTPException(400, f"unknown segment column '{column}'")
        return page(
            request,
            "run.html",
            run=reviewed.stored.run,
            themes=reviewed.themes,
            version=reviewed.state.version,
            segment_column=column,
            segment_value=value,
            segment_values=_segment_values(reviewed),
            message=message,
            jobs=jobs.recent(),
        )

    @app.get("/runs/{run_id}/themes/{theme_id}", response_class=HTMLResponse, include_in_schema=False)
    def theme_page(
        request: Request,
        run_id: str,
        theme_id: str,
        _: Annotated[str, Depends(user("viewer"))],
        q: str = "",
        message: str = "",
    ):
        reviewed = ranked(run_id)
        theme = next((t for t in reviewed.themes if t.theme_id == theme_id), None)
        if theme is None:
            raise HTTPException(404, f"no theme '{theme_id}' in run {run_id}")
        members = [u for u in reviewed.stored.units if theme_id in reviewed.state.labels.get(u.unit_id, [])]
        shown = [u for u in members if q.casefold() in u.text.casefold()]
        return page(
            request,
            "theme.html",
            run=reviewed.stored.run,
            theme=theme,
            units=shown,
            total=len(members),
            q=q,
            themes=reviewed.themes,
            version=reviewed.state.version,
            labels=reviewed.state.labels,
            message=message,
        )

    @app.get("/runs/{run_id}/queue", response_class=HTMLResponse, include_in_schema=False)
    def queue_page(request: Request, run_id: str, _: Annotated[str, Depends(user("reviewer"))]):
        version, items = review_queue(store, run_id, limit=100)
        reviewed = ranked(run_id)
        return page(
            request,
            "queue.html",
            run=reviewed.stored.run,
            items=items,
            version=version,
            themes=[t for t in reviewed.themes if t.theme_id != OTHER_ID][:9],
        )

    @app.get("/runs/{run_id}/report", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, run_id: str, _: Annotated[str, Depends(user("viewer"))]):
        reviewed = ranked(run_id)
        return page(
            request,
            "report.html",
            run=reviewed.stored.run,
            themes=reviewed.themes,
            version=reviewed.state.version,
            excluded=len(reviewed.excluded),
            standalone=False,
        )

    @app.get("/runs/{run_id}/download/{fmt}", include_in_schema=False)
    def download(request: Request, run_id: str, fmt: str, _: Annotated[str, Depends(user("viewer"))]):
        if fmt == "html":
            reviewed = ranked(run_id)
            html = templates.get_template("report_standalone.html").render(
                run=reviewed.stored.run,
                themes=reviewed.themes,
                version=reviewed.state.version,
                excluded=len(reviewed.excluded),
                standalone=True,
                user=None,
                role=None,
                csrf="",
            )
            return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="{run_id}-report.html"'})
        if fmt not in DOWNLOADS:
            raise HTTPException(404, f"no '{fmt}' export: choose html, csv, xlsx or json")
        name, media = DOWNLOADS[fmt]
        folder = Path(tempfile.mkdtemp(prefix="verbatims-export-"))
        export_reviewed(store, run_id, folder)
        return FileResponse(folder / name, media_type=media, filename=f"{run_id}-{name}")

    @app.post("/runs/{run_id}/corrections", include_in_schema=False)
    def correction_form(
        request: Request,
        run_id: str,
        username: Annotated[str, Depends(user("reviewer"))],
        csrf_token: Annotated[str, Form()],
        action: Annotated[str, Form()],
        back: Annotated[str, Form()] = "",
        seen: Annotated[int | None, Form()] = None,
        theme: Annotated[str | None, Form()] = None,
        label: Annotated[str | None, Form()] = None,
        target: Annotated[str | None, Form()] = None,
        unit: Annotated[str | None, Form()] = None,
        to: Annotated[str | None, Form()] = None,
        units: Annotated[list[str] | None, Form()] = None,
        event: Annotated[int | None, Form()] = None,
    ):
        csrf(request, csrf_token)
        back = _local(back or f"/runs/{run_id}")
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
        )
        try:
            saved = _apply(store, run_id, username, fields)
            message = f"#{saved.seq} {action} saved"
        except ReviewError as exc:
            message = f"Not saved: {exc}"
        joiner = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{joiner}message={quote(message)}", status_code=303)

    @app.post("/retrain", include_in_schema=False)
    def retrain_button(
        request: Request, username: Annotated[str, Depends(user("admin"))], csrf_token: Annotated[str, Form()]
    ):
        csrf(request, csrf_token)
        job = jobs.start_retrain(username)
        return RedirectResponse(f"/jobs/{job}", status_code=303)

    @app.post("/waves", include_in_schema=False)
    async def classify_button(
        request: Request,
        username: Annotated[str, Depends(user("admin"))],
        csrf_token: Annotated[str, Form()],
        wave: UploadFile,
    ):
        csrf(request, csrf_token)
        job = jobs.start_classify(wave.filename or "wave.csv", await wave.read(), username)
        return RedirectResponse(f"/jobs/{job}", status_code=303)

    @app.post("/models/{version}/promote", include_in_schema=False)
    def promote_button(
        request: Request, version: str, username: Annotated[str, Depends(user("admin"))], csrf_token: Annotated[str, Form()]
    ):
        csrf(request, csrf_token)
        promote(store, version, username, reason="promoted from the web page")
        return RedirectResponse(f"/?message={quote(f'model {version} promoted')}", status_code=303)

    @app.post("/models/rollback", include_in_schema=False)
    def rollback_button(
        request: Request, username: Annotated[str, Depends(user("admin"))], csrf_token: Annotated[str, Form()]
    ):
        csrf(request, csrf_token)
        version = rollback(store, username)
        return RedirectResponse(f"/?message={quote(f'rolled back: model {version} is promoted again')}", status_code=303)

    @app.post("/users", include_in_schema=False)
    def users_form(
        request: Request,
        _: Annotated[str, Depends(user("admin"))],
        csrf_token: Annotated[str, Form()],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        role: Annotated[str, Form()],
    ):
        csrf(request, csrf_token)
        add_user(store, username, password, role)
        return RedirectResponse(f"/?message={quote(f'user {username} ({role}) saved')}", status_code=303)

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(request: Request, job_id: str, _: Annotated[str, Depends(user("viewer"))]):
        return page(request, "job.html", job=jobs.get(job_id))

    # --- JSON API -------------------------------------------------------------------------------------------

    @app.get("/api/runs", tags=["runs"])
    def api_runs(_: Annotated[str, Depends(user("viewer"))]) -> list[dict]:
        """Recorded runs, latest first."""
        return _runs(store)

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def api_run(run_id: str, _: Annotated[str, Depends(user("viewer"))]) -> dict:
        reviewed = ranked(run_id)
        return {
            **_run_dict(reviewed.stored.run),
            "version": reviewed.state.version,
            "reviewed_units": len(reviewed.state.reviewed),
            "themes": len(reviewed.themes),
        }

    @app.get("/api/runs/{run_id}/themes", tags=["runs"])
    def api_themes(run_id: str, _: Annotated[str, Depends(user("viewer"))]) -> list[dict]:
        """Ranked themes as reviewed: share of respondents, keywords, quotes, segment shares, change."""
        return [_theme_dict(t) for t in ranked(run_id).themes]

    @app.get("/api/runs/{run_id}/themes/{theme_id}/units", tags=["runs"])
    def api_units(run_id: str, theme_id: str, _: Annotated[str, Depends(user("viewer"))], q: str = "") -> list[dict]:
        reviewed = ranked(run_id)
        if theme_id not in reviewed.state.themes:
            raise HTTPException(404, f"no theme '{theme_id}' in run {run_id}")
        return [
            {"unit_id": u.unit_id, "respondent_id": u.respondent_id, "text": u.text}
            for u in reviewed.stored.units
            if theme_id in reviewed.state.labels.get(u.unit_id, []) and q.casefold() in u.text.casefold()
        ]

    @app.get("/api/runs/{run_id}/queue", tags=["review"])
    def api_queue(run_id: str, _: Annotated[str, Depends(user("reviewer"))], limit: int = 20) -> dict:
        if not 1 <= limit <= 1000:
            raise HTTPException(400, "limit must be between 1 and 1000")
        version, items = review_queue(store, run_id, limit)
        return {"version": version, "items": [vars(i) for i in items]}

    @app.post("/api/runs/{run_id}/corrections", tags=["review"])
    def api_correct(
        request: Request, run_id: str, body: Correction, username: Annotated[str, Depends(user("reviewer"))]
    ) -> dict:
        """Save one correction. Send the session's CSRF token in the X-CSRF-Token header."""
        csrf(request, request.headers.get("x-csrf-token"))
        saved = _apply(store, run_id, username, body)
        return {"event": saved.seq, "version": saved.seq, "action": saved.action, "payload": saved.payload}

    @app.get("/api/models", tags=["models"])
    def api_models(_: Annotated[str, Depends(user("viewer"))]) -> dict:
        rows, promoted = list_models(store)
        return {
            "promoted": promoted,
            "models": [
                {
                    "version": r.version,
                    "created_at": r.created_at.isoformat(),
                    "metrics": r.metrics,
                    "n_items": r.n_items,
                    "runs": r.runs,
                }
                for r in rows
            ],
        }

    @app.post("/api/retrain", tags=["models"])
    def api_retrain(request: Request, username: Annotated[str, Depends(user("admin"))]) -> dict:
        csrf(request, request.headers.get("x-csrf-token"))
        return {"job": jobs.start_retrain(username)}

    @app.post("/api/models/{version}/promote", tags=["models"])
    def api_promote(request: Request, version: str, username: Annotated[str, Depends(user("admin"))]) -> dict:
        csrf(request, request.headers.get("x-csrf-token"))
        promote(store, version, username, reason="promoted through the API")
        return {"promoted": version}

    @app.post("/api/models/rollback", tags=["models"])
    def api_rollback(request: Request, username: Annotated[str, Depends(user("admin"))]) -> dict:
        csrf(request, request.headers.get("x-csrf-token"))
        return {"promoted": rollback(store, username)}

    @app.get("/api/jobs/{job_id}", tags=["models"])
    def api_job(job_id: str, _: Annotated[str, Depends(user("viewer"))]) -> dict:
        return vars(jobs.get(job_id))

    return app


def _apply(store: Store, run_id: str, username: str, body: Correction):
    payload = {k: v for k, v in body.model_dump(exclude={"action", "seen"}).items() if v is not None}
    if body.action == "move" and not payload.get("to") and not payload.get("label"):
        raise ReviewError("move needs 'to' (a theme id) or 'label' (a new theme)")
    try:
        return correct(store, run_id, username, body.action, body.seen, **payload)
    except TypeError as exc:  # a field missing for this action
        raise ReviewError(f"'{body.action}' is missing a field: {exc}") from exc
    except KeyError as exc:
        raise ReviewError(f"'{body.action}' needs the field {exc}") from exc


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _local(path: str) -> str:
    """Only this site's paths: a redirect target from a form must not send anyone elsewhere."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"


def _runs(store: Store) -> list[dict]:
    with store.session() as session:
        rows = session.scalars(select(Run).order_by(Run.created_at.desc())).all()
        reviewed = set(session.scalars(select(EventRow.run_id).distinct()))
    return [{**_run_dict(r), "reviewed": r.run_id in reviewed} for r in rows]


def _run_dict(run: Run) -> dict:
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "created_at": run.created_at.isoformat(),
        "input_file": run.input_file,
        "question": run.question,
        "segment_columns": run.segment_columns,
        "model_version": run.model_version,
        "previous_run_id": run.previous_run_id,
    }


def _theme_dict(theme) -> dict:
    return {
        "rank": theme.rank,
        "theme_id": theme.theme_id,
        "label": theme.label,
        "share": round(theme.share, 4),
        "n_respondents": theme.n_respondents,
        "n_units": theme.n_units,
        "keywords": theme.keywords,
        "quotes": theme.quotes,
        "segments": theme.segments,
        "change_pts": theme.change_pts,
        "proposed": theme.proposed,
    }


def _segment_values(reviewed: ReviewedRun) -> dict[str, list[str]]:
    values: dict[str, set[str]] = {c: set() for c in reviewed.stored.run.segment_columns}
    for theme in reviewed.themes:
        for column, shares in theme.segments.items():
            values.setdefault(column, set()).update(shares)
    return {c: sorted(v) for c, v in values.items()}
