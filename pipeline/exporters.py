"""A run's files by name, turftopic-style: each output format is one registered writer.

Adding a format is one decorated function here: ``write_outputs`` writes every registered file, and the web
offers those marked ``download`` (``downloads()``), by format name.
"""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.bundle import Bundle
from pipeline.charts import CHARTS, Chart, drawn, respondent_base
from pipeline.export import markdown_report
from pipeline.registry import Registry
from pipeline.slides import write_deck
from pipeline.workbook import write_workbook

CSV = {"index": False, "encoding": "utf-8-sig"}  # BOM: Excel opens accents right
# Between these many idea units the workbook is written in a fork while this process writes the other files. At
# 18,707 units (10,100 answers) the workbook took 3.5 to 4.2 s and the others 0.5 s, plus 0.8 s when the charts are
# drawn again (new shares): a re-run's export went from 4.4-4.8 s to 3.1-3.3 s. Below 5,000 units the others take
# under 0.2 s, nothing worth a fork; above 50,000 the fork's copied pages would weigh on the memory budget of the
# largest runs (100,000 answers in 4 GiB), which write it here as before.
FORK_MIN_UNITS, FORK_MAX_UNITS = 5_000, 50_000


@dataclass(frozen=True)
class Exporter:
    """One output file: its name, its media type when served, whether the web offers it for download, and
    whether a run has it at all (``applies``: a chart of segments only for a run with segments)."""

    file_name: str
    media_type: str | None
    download: bool
    writer: Callable[[Path, Bundle], None]
    applies: Callable[[Bundle], bool] | None = None
    beside: bool = False  # the slowest file: written in a fork of its own while this process writes the others

    @property
    def format(self) -> str:
        return Path(self.file_name).suffix.lstrip(".")

    def write(self, out_dir: Path, bundle: Bundle) -> Path:
        path = Path(out_dir) / self.file_name
        self.writer(path, bundle)
        return path


EXPORTERS: Registry[Exporter] = Registry("fichier de sortie")


def exporter(
    file_name: str,
    media_type: str | None = None,
    download: bool = False,
    applies: Callable[[Bundle], bool] | None = None,
    beside: bool = False,
):
    """Decorator: register ``writer(path, bundle)`` as the writer of ``file_name`` (of the runs it ``applies`` to)."""

    def add(writer: Callable[[Path, Bundle], None]) -> Callable[[Path, Bundle], None]:
        EXPORTERS.register(file_name)(Exporter(file_name, media_type, download, writer, applies, beside))
        return writer

    return add


def write_outputs(out_dir: Path, bundle: Bundle) -> dict[str, Path]:
    """Every registered file that applies to the run, in ``out_dir``; ``manifest.json`` is ``Manifest.write``'s."""
    return start_outputs(out_dir, bundle).finish(bundle)


def start_outputs(out_dir: Path, bundle: Bundle) -> Writing:
    """``write_outputs`` but for the file written in a fork beside the others (the workbook), which may still be
    writing on return: ``finish`` waits for it, so that the caller does its own work meanwhile."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    chosen = {}
    for name, entry in EXPORTERS.items():
        if entry.applies is None or entry.applies(bundle):
            chosen[name] = entry
        else:  # a file left by an earlier run in the same folder would pass for this run's
            (Path(out_dir) / entry.file_name).unlink(missing_ok=True)
    beside = [name for name, entry in chosen.items() if entry.beside] if _worth_a_fork(bundle) else []
    paths = {name: Path(out_dir) / entry.file_name for name, entry in chosen.items()}
    writing = Writing(Path(out_dir), paths, _write_in_fork(out_dir, bundle, beside) if beside else None, beside)
    try:
        for name, entry in chosen.items():
            if name not in beside:
                entry.write(out_dir, bundle)
    except BaseException:
        writing.abandon()  # no fork goes on writing after this call
        raise
    return writing


@dataclass
class Writing:
    """A run's files as ``start_outputs`` leaves them: all written but ``forked``, which the fork ``pid`` writes.
    Small (it is a task's result): the bundle stays with the caller, who hands it to ``finish``."""

    out_dir: Path
    paths: dict[str, Path]
    pid: int | None
    forked: list[str]

    def finish(self, bundle: Bundle) -> dict[str, Path]:
        """Every file written: the fork waited for, and what it failed to write written here, where its error is
        raised with its traceback (called again, it tries again)."""
        if self.pid is not None and self._ended_well():
            self.forked = []
        for name in self.forked:
            EXPORTERS[name].write(self.out_dir, bundle)
        self.forked = []
        return self.paths

    def abandon(self) -> None:
        """The fork waited for, its file left as it is: the caller is failing and removes the folder."""
        if self.pid is not None:
            self._ended_well()

    def _ended_well(self) -> bool:
        pid, self.pid = self.pid, None
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


def _worth_a_fork(bundle: Bundle) -> bool:
    return hasattr(os, "fork") and FORK_MIN_UNITS <= len(bundle.units) <= FORK_MAX_UNITS


def _write_in_fork(out_dir: Path, bundle: Bundle, names: list[str]) -> int:
    """A child process writing the files registered as ``names``; its pid. The tables both sides read are built
    first, once. The child only writes files: no logging, no import (each import and logging lock is one a thread
    of this process may hold at the fork), and it leaves by ``os._exit``, running none of this process's exit
    handlers."""
    for table in ("nets", "themes_table", "segments_table", "assignments_table", "excluded_table"):
        getattr(bundle, table)
    pid = os.fork()
    if pid == 0:
        gc.disable()  # a collection would touch every object, copying pages this process shares with the parent
        code = 1
        try:
            for name in names:
                EXPORTERS[name].write(out_dir, bundle)
            code = 0
        finally:
            os._exit(code)
    return pid


def downloads() -> dict[str, Exporter]:
    """The files the web offers, by format name (csv, xlsx, json, parquet)."""
    return {entry.format: entry for entry in EXPORTERS.values() if entry.download}


@exporter("themes.csv", "text/csv", download=True)
def _themes_csv(path: Path, bundle: Bundle) -> None:
    bundle.themes_table.to_csv(path, **CSV)


@exporter("themes.xlsx", download=True, beside=True)
def _themes_xlsx(path: Path, bundle: Bundle) -> None:
    write_workbook(path, bundle)  # people read this file: French, formatted, charted (the CSVs keep machine names)


@exporter("themes.json", "application/json", download=True)
def _themes_json(path: Path, bundle: Bundle) -> None:
    rank_of = {code: net.rank for net in bundle.nets for code in net.code_ids}
    document = {
        "run_id": bundle.manifest.run_id,
        "nets": [asdict(net) for net in bundle.nets],
        "themes": [{**asdict(t), "net_rank": rank_of[t.theme_id]} for t in bundle.themes],
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")


@exporter("themes.parquet", "application/vnd.apache.parquet", download=True)
def _themes_parquet(path: Path, bundle: Bundle) -> None:
    """The themes table, typed, for tools that read Parquet (pandas, Polars, DuckDB, Power BI)."""
    bundle.themes_table.to_parquet(path, index=False)


@exporter("segments.csv")
def _segments_csv(path: Path, bundle: Bundle) -> None:
    bundle.segments_table.to_csv(path, **CSV)


@exporter("assignments.csv")
def _assignments_csv(path: Path, bundle: Bundle) -> None:
    bundle.assignments_table.to_csv(path, **CSV)


@exporter("excluded.csv")
def _excluded_csv(path: Path, bundle: Bundle) -> None:
    bundle.excluded_table.to_csv(path, **CSV)


@exporter("report.md")
def _report(path: Path, bundle: Bundle) -> None:
    charts = [(chart.file_name, chart.alt) for chart in CHARTS if chart.applies(bundle.themes)]
    path.write_text(markdown_report(bundle.themes, bundle.manifest, bundle.excluded, bundle.nets, charts), encoding="utf-8")


def _chart_file(chart: Chart) -> None:
    """Register ``chart``'s PNG, written for the runs it applies to (no segments, no segment chart)."""

    @exporter(chart.file_name, "image/png", applies=lambda bundle: chart.applies(bundle.themes))
    def _png(path: Path, bundle: Bundle) -> None:
        # drawn once for every file of the run (the deck takes the same drawing), or not at all when cached
        path.write_bytes(dict(drawn(bundle.themes, bundle.nets, respondent_base(bundle.units), keep=True))[chart])


for _chart in CHARTS:
    _chart_file(_chart)


@exporter("report.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", download=True)
def _slides(path: Path, bundle: Bundle) -> None:
    write_deck(path, bundle.themes, bundle.nets, bundle.manifest, respondent_base(bundle.units))
