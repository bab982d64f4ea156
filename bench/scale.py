"""Scale: 1,000 / 10,000 / 100,000 answers through `verbatims analyze` on threads and on a 2-worker local
Dask cluster, and the same answers through plain BERTopic defaults, each from cold caches.

Answers are recombined from sentences of the labelled development data and the bundled sample, all
distinct, so no cache can skip them. Peak memory is the largest sum of resident memory over the command's
whole process tree (Dask workers and Prefect's server included), sampled every half second.

    .venv/bin/python bench/scale.py [--sizes 1000 10000 100000] [--runners threads dask:2] [--no-plain]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from bench.speed import LEVELS, sentence_pool, synthetic_answers  # noqa: E402

STAGES = ("ingest", "clean", "embed", "recall", "cluster", "rank", "export", "record")


def measure(command: list[str], env: dict) -> tuple[float, float, str]:
    """Wall time (s), peak memory (GiB) of the command's process tree, and its output."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return time.perf_counter() - start, peak / 2**30, output


def plain_bertopic(path: Path) -> None:
    """Plain BERTopic defaults on the raw answers with our embedder (USE), as `bench/quality.py` runs them."""
    from bertopic import BERTopic

    from pipeline.embed import embed, load_embedder

    texts = pd.read_csv(path, dtype=str).texte.tolist()
    vectors, _ = embed(texts, load_embedder())
    topics, _ = BERTopic(language="multilingual").fit_transform(texts, embeddings=vectors)
    print(json.dumps({"topics": len(set(topics) - {-1})}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--runners", nargs="+", default=["threads", "dask:2"])
    parser.add_argument("--no-plain", action="store_true", help="skip plain BERTopic")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--plain-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_only:
        return plain_bertopic(args.plain_only)
    pool = sentence_pool(args.data)
    rows: list[str] = []
    verbatims = str(Path(sys.executable).with_name("verbatims"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            rng = random.Random(size)
            path = tmp / f"answers_{size}.csv"
            texts = synthetic_answers(pool, size, seed=size)
            pd.DataFrame(
                {"id": [f"s{i}" for i in range(size)], "niveau": [rng.choice(LEVELS) for _ in texts], "texte": texts}
            ).to_csv(path, index=False)
            ours_time = None
            for runner in args.runners:
                work = tmp / f"{size}-{runner.replace(':', '')}"
                env = _env(work)
                out = work / "out"
                wall, peak, _ = measure([verbatims, "analyze", str(path), "--out", str(out), "--task-runner", runner], env)
                manifest = json.loads((out / "manifest.json").read_text())
                ours_time = ours_time or wall
                t, c = manifest["timings_s"], manifest["counts"]
                rows.append(
                    f"| {size:,} | verbatims, {runner} | {c['units']:,} | {c['themes']} | {wall / 60:.1f} | {peak:.2f} | "
                    + " | ".join(f"{t.get(s, 0):.0f}" for s in STAGES)
                    + " |"
                )
                _publish(args, rows)
            if not args.no_plain:
                work = tmp / f"{size}-plain"
                command = [sys.executable, __file__, "--plain-only", str(path)]
                wall, peak, output = measure(command, _env(work))
                topics = json.loads(output.strip().splitlines()[-1])["topics"]
                ratio = f"; {wall / ours_time:.2f}× the first verbatims run" if ours_time else ""
                rows.append(
                    f"| {size:,} | plain BERTopic defaults (USE){ratio} | {size:,} answers | {topics} | {wall / 60:.1f} | "
                    f"{peak:.2f} | " + " | ".join("" for _ in STAGES) + " |"
                )
                _publish(args, rows)


def _env(work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    return {
        "VERBATIMS_CACHE": str(work / "cache"),
        "VERBATIMS_DB": str(work / "store.sqlite"),
        "PREFECT_HOME": str(work / "prefect"),
        "VERBATIMS_PREFECT_IDLE": "0",  # each run starts its own server: no idle one left in a deleted folder
        "VERBATIMS_ENGINE_IDLE": "0",  # nor a resident engine: each size is a first run
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
    }


def _publish(args, rows: list[str]) -> None:
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    body = "\n".join(
        [
            "## Scale (`bench/scale.py`)",
            "",
            f"Distinct answers recombined from sentences of `{args.data.name}` and the sample, cold caches for every "
            f"run, {cores} cores. Wall time of the whole command (Prefect start-up included); peak memory summed over "
            "its process tree; stage times (s) from the manifest.",
            "",
            "| answers | pipeline | idea units | themes | wall (min) | peak memory (GiB) | " + " | ".join(STAGES) + " |",
            "|---:|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
            *rows,
        ]
    )
    publish("scale", body, write=not args.no_write)


if __name__ == "__main__":
    main()
