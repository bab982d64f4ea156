"""Speed of a cold run on N answers, then of a re-run with 100 new answers right after (warm caches).

Answers are recombined from sentences of the labelled development data and the bundled sample (1 to 3
sentences each, all distinct), so the cache cannot skip them. Both runs go through the real CLI and
Prefect flow, as an analyst would run them. Each pair starts from empty caches, store and Prefect home: the
cold run starts the Prefect server, the re-run finds it (issue 19) and places its new ideas in the cold run's
themes (``theme_path`` in its manifest, shown in the table).

Two ways, alternated pair by pair in one run of the bench: the product's (the cold run starts the resident
engine, ``cli/resident.py``, which loads while it runs and serves the re-run), and the anchor, every command a
process of its own (``VERBATIMS_ENGINE_IDLE=0``, the way before the engine).

    .venv/bin/python bench/speed.py [--answers 10000] [--repeat 3] [--data ../shared/data/elf_dev.csv]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from cli import resident  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "verbatims" / "panorama_culture_client_2025.csv"
TARGET_RATIO = 0.10
LEVELS = ["native", "très avancée", "en progrès", "en construction", "naissante"]


def sentence_pool(data: Path) -> list[str]:
    texts = pd.read_csv(data, dtype=str).text.tolist() + pd.read_csv(SAMPLE, sep=";", dtype=str).reponse.tolist()
    pool = {s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+|\n+", str(t)) if len(s.split()) >= 3}
    return sorted(pool)


def synthetic_answers(pool: list[str], n: int, seed: int, avoid: set[str] = frozenset()) -> list[str]:
    rng = random.Random(seed)
    answers: dict[str, None] = {}
    while len(answers) < n:
        text = " ".join(rng.sample(pool, rng.choice((1, 1, 2, 2, 3))))
        if text not in avoid:
            answers.setdefault(text)
    return list(answers)


def environment(cache: Path, engine: bool) -> dict[str, str]:
    return {
        "VERBATIMS_CACHE": str(cache),
        "VERBATIMS_DB": str(cache / "store.sqlite"),
        "PREFECT_HOME": str(cache / "prefect"),
        "VERBATIMS_PREFECT_IDLE": "60",  # up for the re-run, not for 10 minutes after the bench
        "VERBATIMS_ENGINE_IDLE": "20" if engine else "0",  # gone before the next pair's re-run
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": "/usr/bin:/bin",
    }


def engine_ready(env: dict[str, str], cwd: str | None = None, timeout: float = 300) -> float:
    """Seconds until the engine the last command started (in ``cwd``, default this one) listens
    (``cli/resident.py``)."""
    sock = resident.socket_path(resident.engine_key(env, cwd or os.getcwd()))
    start = time.perf_counter()
    while not sock.exists():
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"no engine after {timeout} s: {sock}")
        time.sleep(0.2)
    return time.perf_counter() - start


def run_cli(path: Path, out: Path, env: dict[str, str]) -> tuple[float, dict]:
    command = [str(Path(sys.executable).with_name("verbatims")), "analyze", str(path), "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    return elapsed, json.loads((out / "manifest.json").read_text())


def cold_then_rerun(base: list[str], extra: list[str], engine: bool) -> tuple[float, dict, float, dict, float]:
    """Both runs on fresh caches of their own; the second file is the first plus ``extra``. With the engine, the
    re-run starts once it is ready (the seconds waited are returned: the engine loads while the results are
    read); without, at once."""
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        first, second = tmp / "wave.csv", tmp / "wave_plus.csv"
        frame = pd.DataFrame(
            {
                "id": [f"s{i}" for i in range(len(base) + len(extra))],
                "niveau": [rng.choice(LEVELS) for _ in range(len(base) + len(extra))],
                "texte": base + extra,
            }
        )
        frame.iloc[: len(base)].to_csv(first, index=False)
        frame.to_csv(second, index=False)
        env = environment(tmp / "cache", engine)
        cold, cold_manifest = run_cli(first, tmp / "out1", env)
        waited = engine_ready(env) if engine else 0.0
        warm, warm_manifest = run_cli(second, tmp / "out2", env)
    way = f"engine (ready {waited:.0f} s after the cold run)" if engine else "no engine"
    print(f"{way}: cold run {cold:.0f} s, re-run {warm:.0f} s: {warm / cold:.2f}", flush=True)
    return cold, cold_manifest, warm, warm_manifest, waited


def theme_path(manifest: dict) -> str:
    path = manifest["parameters"].get("theme_path") or {}
    if path.get("path") == "placed":
        return f"{path['new_units']} new ideas placed ({path['placed_in_other']} in Autres)"
    return "clustered" + (f": {path['reason']}" if path.get("reason") else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs; the table shows the median pair")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    pool = sentence_pool(args.data)
    base = synthetic_answers(pool, args.answers, seed=1)
    extra = synthetic_answers(pool, args.new, seed=2, avoid=set(base))
    ways = {"resident engine": [], "anchor: a process per command": []}
    for _ in range(args.repeat):  # alternated, so that both ways see the machine alike
        for engine, pairs in zip((True, False), ways.values(), strict=True):
            pairs.append(cold_then_rerun(base, extra, engine))
    peak_gib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    lines = [
        "| way | run | answers | idea units | embedded | wall time (s) | ingest | clean | embed | recall reviews | "
        "cluster | rank | export | record in store | themes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    summary = []
    for way, pairs in ways.items():
        ratios = [warm / cold for cold, _, warm, _, _ in pairs]
        cold, cold_manifest, warm, warm_manifest, _ = sorted(pairs, key=lambda p: p[2] / p[0])[len(pairs) // 2]
        waits = ", ".join(f"{p[4]:.0f}" for p in pairs)
        ready = f"; the engine was ready {waits} s after the cold run ended" if pairs[0][4] else ""
        summary.append(f"{way} **{warm / cold:.2f}** ({', '.join(f'{r:.2f}' for r in ratios)}{ready})")
        rows = [
            ("cold run", len(base), cold, cold_manifest),
            (f"re-run with {len(extra)} new answers", len(base) + len(extra), warm, warm_manifest),
        ]
        lines.extend(_row(way, *row) for row in rows)
    body = "\n".join(
        [
            "## Speed (`bench/speed.py`)",
            "",
            f"{args.answers} distinct answers recombined from sentences of `{args.data.name}` and the sample; wall time of "
            "the `verbatims analyze` command (Prefect start-up included), stage times from the manifest, on "
            f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores. "
            f"Target (issue 19): re-run under {TARGET_RATIO} of the cold run. Re-run / cold run, median of "
            f"{args.repeat} pairs of runs each on fresh caches, the two ways alternated (the table shows the median "
            f"pairs): {'; '.join(summary)}. Peak memory of the largest run: {peak_gib:.2f} GiB.",
            "",
            *lines,
        ]
    )
    publish("speed", body, write=not args.no_write)


def _row(way: str, name: str, n: int, elapsed: float, manifest: dict) -> str:
    t, c = manifest["timings_s"], manifest["counts"]
    return (
        f"| {way} | {name} | {n} | {c['units']} | {c['embedded_new']} | {elapsed:.0f} | "
        + " | ".join(
            f"{t.get(s, 0):.1f}" for s in ("ingest", "clean", "embed", "recall", "cluster", "rank", "export", "record")
        )
        + f" | {theme_path(manifest)} |"
    )


if __name__ == "__main__":
    main()
