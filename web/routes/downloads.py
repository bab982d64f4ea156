"""A run's report and tables as files: the standalone HTML report, and the reviewed run in every format the
exporter registry offers for download (``pipeline.exporters.downloads``)."""

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.background import BackgroundTask

from pipeline.errors import NotFoundError
from pipeline.exporters import downloads
from pipeline.messages import say
from review.runs import export_reviewed
from web.deps import Viewer, Web, WebContext
from web.views import report_context

router = APIRouter(include_in_schema=False)


@router.get("/runs/{run_id}/download/{fmt}")
def download(run_id: str, fmt: str, web: Web, _: Viewer):
    return run_file(web, run_id, fmt)


def run_file(web: WebContext, run_id: str, fmt: str) -> Response:
    """The run's report or table in ``fmt``, for a signed-in reader or a share link's (web/routes/shares.py)."""
    if fmt == "html":
        return standalone_report(web, run_id)
    exporter = downloads().get(fmt)
    if exporter is None:
        raise NotFoundError(say("download.no_format", fmt=fmt, formats=", ".join(["html", *downloads()])))
    folder = Path(tempfile.mkdtemp(prefix="verbatims-export-"))
    try:
        export_reviewed(web.store, run_id, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    # the folder holds every file of the run, answers included: it goes once the file is sent (or the send fails)
    return FileResponse(
        folder / exporter.file_name,
        media_type=exporter.media_type,
        filename=f"{run_id}-{exporter.file_name}",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def standalone_report(web: WebContext, run_id: str) -> HTMLResponse:
    """The report page as one file to send around: no session, no forms, its styles inlined by the template."""
    html = web.templates.get_template("report_standalone.html").render(
        **report_context(web.ranked.get(run_id)), standalone=True, user=None, role=None, csrf=""
    )
    return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="{run_id}-report.html"'})
