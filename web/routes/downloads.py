"""A run's report and tables as files: the standalone HTML report, and the reviewed run as CSV, Excel or JSON."""

import tempfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from pipeline.errors import NotFoundError
from review.runs import export_reviewed
from web.deps import Viewer, Web, WebContext
from web.views import report_context

DOWNLOADS = {"csv": ("themes.csv", "text/csv"), "xlsx": ("themes.xlsx", None), "json": ("themes.json", "application/json")}

router = APIRouter(include_in_schema=False)


@router.get("/runs/{run_id}/download/{fmt}")
def download(run_id: str, fmt: str, web: Web, _: Viewer):
    if fmt == "html":
        return standalone_report(web, run_id)
    if fmt not in DOWNLOADS:
        raise NotFoundError(f"no '{fmt}' export: choose html, csv, xlsx or json")
    name, media = DOWNLOADS[fmt]
    folder = Path(tempfile.mkdtemp(prefix="verbatims-export-"))
    export_reviewed(web.store, run_id, folder)
    return FileResponse(folder / name, media_type=media, filename=f"{run_id}-{name}")


def standalone_report(web: WebContext, run_id: str) -> HTMLResponse:
    """The report page as one file to send around: no session, no forms, its styles inlined by the template."""
    html = web.templates.get_template("report_standalone.html").render(
        **report_context(web.ranked.get(run_id)), standalone=True, user=None, role=None, csrf=""
    )
    return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="{run_id}-report.html"'})
