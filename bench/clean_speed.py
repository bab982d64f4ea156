"""Cleaning speed: answers per second of cleaning's costly part (`_analyse`) on the answers of elf_dev.csv.

Three ways, side by side in one run, each in a fresh process (cold caches: the lemmatizer learns words as it
goes; spaCy is loaded before the clock starts, a worker process's start is on the clock):
- before: pipeline/clean.py as of ANCHOR, read from git (every component on every answer);
- one process: this tree's cleaning without worker processes;
- two processes: this tree's cleaning sharing the batch with a worker process.
The rounds alternate the ways, so a busy machine slows each alike; the table shows each way's median round.
The first rows of the file, with and without the worker, say from which size the worker pays for its start.

    .venv/bin/python bench/clean_speed.py [--data ../shared/data/elf_dev.csv] [--repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import types
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The last commit with the cleaning of before issue 19 (parser excluded, NER and the rest on every answer).
ANCHOR = "4a4b1c29acda32587ef8517f82802cc89e05f1e5"
WAYS = {"before": "before (every component)", "one": "now, one process", "two": "now, two processes"}
SIZES = (1000, 1500, 2000)  # first rows of the file, to place MIN_ANSWERS_FOR_WORKERS


def anchor_module() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{ANCHOR}:pipeline/clean.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("clean_before")
    exec(compile(source, f"{ANCHOR[:7]}:pipeline/clean.py", "exec"), module.__dict__)  # our own history, pinned
    return module


def measure(way: str, data: Path, answers: int | None) -> dict:
    """In this process: one way on the file's first ``answers`` answers (all when None)."""
    import pipeline.clean as clean

    texts = pd.read_csv(data, dtype=str).text.fillna("").tolist()[:answers]
    module = anchor_module() if way == "before" else clean
    clean.CLEAN_WORKERS = 1 if way == "two" else 0
    clean.MIN_ANSWERS_FOR_WORKERS = 0  # here the way decides, whatever the size
    module.load_spacy()
    module._language_identifier()
    start, cpu = time.perf_counter(), os.times()
    analysed = list(module._analyse(texts))
    seconds = time.perf_counter() - start
    clean.stop_workers()  # its CPU time is counted once it has ended
    end = os.times()
    prepared = [clean.mask_patterns(clean.normalize(t)) for t in texts]
    start = time.perf_counter()
    for text in prepared:
        clean.language_reason(text)
    return {
        "answers": len(texts),
        "seconds": seconds,
        "main_cpu": end.user + end.system - cpu.user - cpu.system,
        "worker_cpu": end.children_user + end.children_system - cpu.children_user - cpu.children_system,
        "language_seconds": time.perf_counter() - start,
        "main_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "results": json.loads(json.dumps(analysed)),
    }


def free_cores(measured: dict) -> float:
    """Answers/s the way would reach with a core of its own per process: the other sessions of a shared machine
    take turns on the cores, so the wall time of two processes says little; their CPU times do (each process's
    work, worker start included, runs at once)."""
    return measured["answers"] / max(measured["main_cpu"], measured["worker_cpu"])


def run(way: str, data: Path, answers: int | None = None) -> dict:
    command = [sys.executable, __file__, "--measure", way, "--data", str(data)]
    if answers:
        command += ["--answers", str(answers)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "elf_dev.csv")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three ways")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--measure", choices=WAYS, help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.data, args.answers)))
        return

    from bench.results_file import publish
    from pipeline.clean import MIN_ANSWERS_FOR_WORKERS

    rounds: dict[str, list[dict]] = {way: [] for way in WAYS}
    for _ in range(args.repeat):
        for way in WAYS:
            rounds[way].append(run(way, args.data))
    median = {way: sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2] for way, runs in rounds.items()}
    reference = median["before"]["results"]
    differing = {way: sum(a != b for a, b in zip(reference, m["results"], strict=True)) for way, m in median.items()}
    n = median["before"]["answers"]
    lines = [
        "| way | answers/s (median) | every round (answers/s) | CPU s main + worker | answers/s with free cores "
        "| peak RSS main (MiB) | peak RSS worker (MiB) | answers whose result differs from before |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for way, label in WAYS.items():
        m = median[way]
        every = ", ".join(f"{r['answers'] / r['seconds']:.0f}" for r in rounds[way])
        worker, cpu = (f"{m['worker_mib']:.0f}", f" + {m['worker_cpu']:.1f}") if way == "two" else ("-", "")
        lines.append(
            f"| {label} | {n / m['seconds']:.0f} | {every} | {m['main_cpu']:.1f}{cpu} | {free_cores(m):.0f} "
            f"| {m['main_mib']:.0f} | {worker} | {differing[way]} |"
        )
    sizes = [
        "| first answers of the file | one process (answers/s) | two processes (answers/s) | one process, free cores "
        "| two processes, free cores |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in SIZES:
        one, two = run("one", args.data, size), run("two", args.data, size)
        sizes.append(
            f"| {size} | {size / one['seconds']:.0f} | {size / two['seconds']:.0f} | {free_cores(one):.0f} "
            f"| {free_cores(two):.0f} |"
        )
    one = median["one"]
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    body = "\n".join(
        [
            "## Cleaning speed (`.venv/bin/python bench/clean_speed.py`)",
            "",
            f"Cleaning's costly part (`_analyse`: normalise, mask, language, spaCy, idea units) on the {n} answers of "
            f"`{args.data.name}`, on {nproc} cores, cold caches, each way in a fresh process, {args.repeat} alternating "
            f"rounds. Now, one process: **{n / one['seconds']:.0f} answers/s**, "
            f"{median['before']['seconds'] / one['seconds']:.2f} times before; two processes: "
            f"**{n / median['two']['seconds']:.0f} answers/s** ({median['before']['seconds'] / median['two']['seconds']:.2f}"
            f" times before). Language detection (py3langid) takes {one['language_seconds']:.1f} s, "
            f"{one['language_seconds'] / one['seconds']:.0%} of one process's time. "
            "The embedder (USE) embeds about 600 texts/s (measured for issue 19).",
            "",
            *lines,
            "",
            "Answers/s with free cores: answers / the longest CPU time of a process (the wall time two processes "
            "would take with a core each; this machine was shared with other sessions during the run).",
            "",
            f"A worker's start (spawn, then spaCy) is on the clock; the product starts one from {MIN_ANSWERS_FOR_WORKERS} "
            "answers to clean at once (`MIN_ANSWERS_FOR_WORKERS`), and once started it serves every later batch:",
            "",
            *sizes,
        ]
    )
    publish("clean_speed", body, write=not args.no_write)


if __name__ == "__main__":
    main()
