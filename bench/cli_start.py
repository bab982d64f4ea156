"""How long the command line takes before it does anything (issue 19: `verbatims --help` took 2.3 to 3.0 s): the
wall time of `verbatims --help`, of a sub-command's help and of an argument error, each the median of repeated
runs in fresh processes, next to the anchor of the same run: a bare `python -c pass` of the same interpreter.

    .venv/bin/python bench/cli_start.py [--repeat 15] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402

VERBATIMS = str(Path(sys.executable).with_name("verbatims"))
COMMANDS = {
    "python -c pass (anchor: the interpreter alone)": [sys.executable, "-c", "pass"],
    "verbatims --help": [VERBATIMS, "--help"],
    "verbatims analyze --help": [VERBATIMS, "analyze", "--help"],
    "verbatims runs --limit trois (argument error)": [VERBATIMS, "runs", "--limit", "trois"],
}
TARGET_SECONDS = 0.5


def wall_seconds(command: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    rows = []
    for name, command in COMMANDS.items():
        times = wall_seconds(command, args.repeat)
        rows.append(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")
    body = "\n".join(
        [
            "## Command-line start (`bench/cli_start.py`)",
            "",
            f"Wall time of each command in a fresh process, {args.repeat} runs, on 2 cores; target (issue 19): "
            f"`verbatims --help` under {TARGET_SECONDS} s. Nothing heavy is imported before a command needs it "
            "(`tests/test_cli_start.py` checks it).",
            "",
            "| command | median (s) | fastest (s) | slowest (s) |",
            "|---|---:|---:|---:|",
            *rows,
        ]
    )
    publish("cli_start", body, write=not args.no_write)


if __name__ == "__main__":
    main()
