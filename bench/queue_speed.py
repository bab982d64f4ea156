"""Speed of the review queue on a run of N answers: the first call, a call with nothing new, and a call right
after new reviews (50, then 100), from the `verbatims review queue` command (wall time, start-up included) and
from a process that stays up as the web server does.

The run is built as bench/speed.py builds its answers (sentences of the labelled development data and the
sample recombined, 1 to 3 each), analysed by the real command into a scratch store. Reviews are simulated
down the queue: every third unit moved to its runner-up, the others confirmed. The command and the server
keep their queue files in caches of their own, so that each fits its own models.

    .venv/bin/python bench/queue_speed.py [--answers 10000] [--built DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import DEFAULT_DATA  # noqa: E402
from bench.results_file import publish  # noqa: E402
from bench.speed import LEVELS, run_cli, sentence_pool, synthetic_answers  # noqa: E402

REVIEWS = (50, 100)
VERBATIMS = str(Path(sys.executable).with_name("verbatims"))


def build(answers: int, data: Path, folder: Path) -> tuple[Path, Path]:
    """A run of ``answers`` answers analysed by the command: (its store, its embedding cache)."""
    texts = synthetic_answers(sentence_pool(data), answers, seed=1)
    rng = random.Random(3)
    frame = pd.DataFrame(
        {"id": [f"s{i}" for i in range(len(texts))], "niveau": [rng.choice(LEVELS) for _ in texts], "texte": texts}
    )
    frame.to_csv(folder / "wave.csv", index=False)
    run_cli(folder / "wave.csv", folder / "out", folder / "built")
    return folder / "built" / "store.sqlite", folder / "built" / "cache.sqlite"


def command(store: Path, cache: Path, *flags: str) -> tuple[float, float, str]:
    """One `verbatims review queue latest`: wall and CPU seconds, and what it printed."""
    env = {"VERBATIMS_CACHE": str(cache), "VERBATIMS_DB": str(store), "PATH": "/usr/bin:/bin"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [VERBATIMS, "review", "queue", "latest", *flags], check=True, capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stdout


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def simulate_reviews(store, run_id: str, n: int) -> None:
    from review.corrections import correct
    from review.queue import review_queue

    _, items = review_queue(store, run_id, limit=n, fresh=False)
    for i, item in enumerate(items):
        if i % 3 == 0 and item.runner_up_id:
            correct(store, run_id, "bench", "move", unit=item.unit_id, to=item.runner_up_id)
        else:
            correct(store, run_id, "bench", "confirm", unit=item.unit_id)


def measure(store_path: Path, cli_cache: Path) -> tuple[int, list[tuple[str, int, str, str, str]]]:
    """The run's idea units, and rows: step, reviewed units, command wall (CPU) time, server time, the model."""
    from review.queue import queue_view
    from review.queue_run import queue_run
    from review.store import Store

    store = Store(str(store_path))
    run_id = store.latest_run_id()
    rows = []
    for step in ("first call", "nothing new"):
        wall, cpu, _ = command(store_path, cli_cache)
        server, _ = timed(lambda: queue_view(store, run_id, fresh=False))
        rows.append((step, 0, f"{wall:.2f} ({cpu:.2f})", f"{server:.2f}", "machine order"))
    reviewed = 0
    for n in REVIEWS:
        simulate_reviews(store, run_id, n - reviewed)
        step, reviewed = f"right after {n - reviewed} new reviews", n
        stale_s, stale = timed(lambda: queue_view(store, run_id, fresh=False))
        refit_s, fresh = timed(lambda: queue_view(store, run_id, fresh=True))  # waits for the background fit
        wall, cpu, shown = command(store_path, cli_cache)
        assert "réajusté" in shown or "en arrière-plan" in shown, shown[:500]  # its first model, or the last one
        command(store_path, cli_cache, "--wait")  # untimed: the model of these reviews is there before the next call
        if stale.learnt_from == n:  # its first model: nothing to answer from, the server waited for the fit
            learnt = f"first model, from {n}: the server waited for its fit"
        else:
            learnt = f"server: from {stale.learnt_from} at once, from {fresh.learnt_from} {refit_s:.1f} s later"
        rows.append((step, n, f"{wall:.2f} ({cpu:.2f})", f"{stale_s:.2f}", learnt))
        wall, cpu, shown = command(store_path, cli_cache)
        assert "rien de nouveau" in shown, shown[:500]
        server, _ = timed(lambda: queue_view(store, run_id, fresh=False))
        rows.append(("nothing new", n, f"{wall:.2f} ({cpu:.2f})", f"{server:.2f}", f"{n} reviewed units"))
    return len(queue_run(store, run_id).unit_ids), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=10_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--built", type=Path, help="a folder where a run was built before: reuse it")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = args.built or tmp
        built = folder / "built" / "store.sqlite", folder / "built" / "cache.sqlite"
        base, embeddings = built if built[0].exists() else build(args.answers, args.data, folder)
        store = tmp / "store.sqlite"
        shutil.copy(base, store)
        for cache in ("cli", "server"):  # each starts with the run's embeddings, as after `verbatims analyze`
            (tmp / cache).mkdir()
            shutil.copy(embeddings, tmp / cache / "cache.sqlite")
        os.environ["VERBATIMS_CACHE"] = str(tmp / "server")  # this process is the server
        units, rows = measure(store, tmp / "cli")
    load = os.getloadavg()[0]
    lines = ["| call | reviewed | command: wall (CPU) s | server: s | model |", "|---|---:|---:|---:|---|"]
    lines += [f"| {step} | {n} | {cli} | {server} | {model} |" for step, n, cli, server, model in rows]
    body = "\n".join(
        [
            "## Review queue speed (`bench/queue_speed.py`)",
            "",
            f"`verbatims review queue` on a run of {args.answers} answers ({units} idea units) built as `bench/speed.py` "
            f"builds them, on {os.cpu_count()} cores shared with other work (load average {load:.1f} at the end: wall "
            "times stretch with it, CPU times much less). The command: wall time of the whole process, start-up "
            "included, and its CPU time; after new reviews it answers from the last model it saved and leaves the "
            "refit to a detached process (its first model too, listing in the machine's order meanwhile). The server: "
            "one `queue_view` call in a "
            "process that stays up "
            "(`fresh=False`: after new reviews it answers from the model it has and refits in the background).",
            "",
            *lines,
        ]
    )
    publish("queue_speed", body, write=not args.no_write)


if __name__ == "__main__":
    main()
