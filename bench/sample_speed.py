"""What an analyst waits for on the bundled sample (issue 19): `verbatims analyze` with its codebook on cold caches,
then the same command again, as `make run` runs it. Each repeat starts from empty caches, store and Prefect home.

Anchor, in the same run: the second run with `VERBATIMS_PREFECT_IDLE=0` and `VERBATIMS_ENGINE_IDLE=0`, so that each
command starts and stops a Prefect server of its own (as every command did before issue 19). Then a third run, once
the resident engine the first run started is ready (``cli/resident.py``): served by it. Every run must give the first
run's themes: every idea unit in the same theme (assignments.csv) and the same ranked themes (themes.csv).

    .venv/bin/python bench/sample_speed.py [--repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402
from bench.speed import engine_ready  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "verbatims" / "panorama_culture_client_2025"
VERBATIMS = str(Path(sys.executable).with_name("verbatims"))
TARGETS = {"first": 25.0, "second": 5.0}  # seconds, issue 19
# The shared server outlives the bench's commands by this long, not the default 10 minutes.
IDLE_SECONDS = "60"


def analyze(out: Path, env: dict) -> float:
    command = [VERBATIMS, "analyze", f"{SAMPLE}.csv", "--codebook", f"{SAMPLE}.codebook.yaml", "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def environment(state: Path, idle: str) -> dict:
    return {
        **os.environ,
        "VERBATIMS_CACHE": str(state / "cache"),
        "VERBATIMS_DB": str(state / "store.sqlite"),
        "PREFECT_HOME": str(state / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "VERBATIMS_PREFECT_IDLE": idle,
        "VERBATIMS_ENGINE_IDLE": idle,
    }


def same_themes(one: Path, other: Path) -> bool:
    return all((one / name).read_bytes() == (other / name).read_bytes() for name in ("assignments.csv", "themes.csv"))


def one_repeat(tmp: Path) -> dict[str, float | bool]:
    shared, alone = environment(tmp / "shared", IDLE_SECONDS), environment(tmp / "alone", "0")
    first = analyze(tmp / "first", shared)
    second = analyze(tmp / "second", shared)  # at once: the engine is still loading, the command runs by itself
    waited = engine_ready(shared, str(ROOT))
    served = analyze(tmp / "served", shared)
    analyze(tmp / "alone-first", alone)
    anchor = analyze(tmp / "alone-second", alone)
    same = all(same_themes(tmp / "first", tmp / out) for out in ("second", "served", "alone-second"))
    return {"first": first, "second": second, "served": served, "waited": waited, "anchor": anchor, "same": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        # a Prefect server or engine of the repeat may still be writing its files as it stops: what it leaves in the
        # temporary folder is no failure of the bench (one repeat of 2026-11-30 21:00 ended with "Directory not empty")
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
            runs.append(one_repeat(Path(tmp)))

    def cell(name: str) -> str:
        times = [run[name] for run in runs]
        return f"{statistics.median(times):.1f} ({', '.join(f'{t:.1f}' for t in times)})"

    same = sum(bool(run["same"]) for run in runs)
    body = "\n".join(
        [
            "## The sample, first and second run (`bench/sample_speed.py`)",
            "",
            f"`verbatims analyze` on the bundled sample (304 answers) with its codebook, wall time in seconds, median of "
            f"{args.repeat} repeats (each value in brackets), each repeat on empty caches, store and Prefect home, on 2 "
            f"cores. Targets (issue 19): first run under {TARGETS['first']:.0f} s, second under {TARGETS['second']:.0f} s. "
            "The anchor is the same second run with a Prefect server started and stopped by the command itself "
            f"(`VERBATIMS_PREFECT_IDLE=0`, every command's way before issue 19). Same themes in all four runs (every "
            f"unit's theme, the ranked themes): {same} of {args.repeat} repeats.",
            "",
            "| run | seconds |",
            "|---|---:|",
            f"| first run, cold caches (starts the shared Prefect server) | {cell('first')} |",
            f"| second run at once (finds the server; placer and caches warm; the engine still loading) | "
            f"{cell('second')} |",
            f"| third run, served by the resident engine (ready {cell('waited')} s after the second run ended) | "
            f"{cell('served')} |",
            f"| anchor: second run starting its own server | {cell('anchor')} |",
        ]
    )
    publish("sample_speed", body, write=not args.no_write)


if __name__ == "__main__":
    main()
