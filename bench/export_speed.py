"""How long writing a run's files takes (issue 19: the export stage was 3.4 s of the sample's second run, most of it
matplotlib drawing the charts): ``pipeline.exporters.write_outputs`` on the sample's bundle (the sample analysed once,
with its codebook), in fresh processes, each timing the import of the exporters, a first write, then more writes.

Every write gets a fresh copy of the bundle (its tables are built inside, as in a run) and forgets the drawings kept
in memory (as a new process would). Three ways, measured side by side in one run of this bench:

- anchor: the exporters as of commit ANCHOR (before the charts were drawn once per content: constrained layout, each
  chart drawn for the files and again for the deck, no disk cache), unpacked with ``git archive``;
- now, chart cache cold: each write on an empty cache folder;
- now, chart cache warm: each write on the folder of an earlier write (the same themes).

    .venv/bin/python bench/export_speed.py [--processes 3] [--writes 5] [--no-write]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = "0e099dd"  # the last commit before the charts' single render and disk cache
SAMPLE = ROOT / "data" / "verbatims" / "panorama_culture_client_2025.csv"
TARGETS = {"cold": 1.0, "warm": 0.3}  # seconds of write_outputs on a quiet machine (issue 19's helper brief)
SAME_BYTES = (".csv", ".json", ".md", ".parquet")  # files that must not change by a byte


def child(tree: Path, bundle_file: Path, mode: str, writes: int, cache_root: Path) -> dict:
    """In a fresh process whose ``pipeline`` is ``tree``'s: the exporters' import, then ``writes`` timed writes."""
    sys.path.insert(0, str(tree))
    started = time.perf_counter()
    from pipeline import charts, settings
    from pipeline.exporters import EXPORTERS, write_outputs

    imported = time.perf_counter() - started
    blob = bundle_file.read_bytes()
    out = Path(tempfile.mkdtemp(prefix="export-"))
    totals, cpus, files = [], [], {}
    for n in range(writes):
        with settings.overridden(cache=cache_root if mode == "warm" else cache_root / f"{os.getpid()}-{n}-all"):
            charts._DRAWN.clear()
            bundle = pickle.loads(blob)
            started, cpu = time.perf_counter(), time.process_time()
            write_outputs(out, bundle)
            totals.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        # once more, file by file as write_outputs writes them, on a cache as cold (or warm) as the first
        with settings.overridden(cache=cache_root if mode == "warm" else cache_root / f"{os.getpid()}-{n}-each"):
            charts._DRAWN.clear()
            bundle = pickle.loads(blob)
            for name, entry in EXPORTERS.items():
                if entry.applies is None or entry.applies(bundle):
                    started = time.perf_counter()
                    entry.write(out, bundle)
                    files.setdefault(name, []).append(time.perf_counter() - started)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}
    return {"import": imported, "writes": totals, "cpu": cpus, "files": files, "digests": digests}


def run_child(tree: Path, bundle_file: Path, mode: str, writes: int, cache_root: Path) -> dict:
    command = [sys.executable, __file__, "--child", str(tree), str(bundle_file), mode, str(writes), str(cache_root)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def sample_bundle(folder: Path) -> Path:
    """The sample analysed with its codebook, pickled: every process writes the same bundle."""
    from pipeline import settings
    from pipeline.analysis import Analysis
    from pipeline.codebook import load_codebook

    with settings.overridden(cache=folder / "analysis-cache"):
        analysis = Analysis(codebook=load_codebook(SAMPLE.with_suffix(".codebook.yaml")))
        analysed = analysis.run(analysis.ingest(SAMPLE))
        bundle = analysed.bundle(analysis.manifest("r1", SAMPLE, analysed, None, {}))
    path = folder / "bundle.pickle"
    path.write_bytes(pickle.dumps(bundle))
    return path


def anchor_tree(folder: Path) -> Path:
    """The exporters (the whole ``pipeline`` package) as of ANCHOR."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ANCHOR, "pipeline"], capture_output=True, check=True)
    tree = folder / "anchor"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(tree, filter="data")
    return tree


def measure(args: argparse.Namespace) -> dict[str, list[dict]]:
    with tempfile.TemporaryDirectory(prefix="export-speed-") as tmp:
        folder = Path(tmp)
        bundle = sample_bundle(folder)
        anchor = anchor_tree(folder)
        warm_cache = folder / "warm-cache"
        run_child(ROOT, bundle, "warm", 1, warm_cache)  # the earlier run that left its charts
        ways = {"anchor": (anchor, "cold"), "cold": (ROOT, "cold"), "warm": (ROOT, "warm")}
        results: dict[str, list[dict]] = {way: [] for way in ways}
        for _ in range(args.processes):  # interleaved, so that a busy minute weighs on every way alike
            for way, (tree, mode) in ways.items():
                cache = warm_cache if mode == "warm" else folder / f"{way}-caches"
                results[way].append(run_child(tree, bundle, mode, args.writes, cache))
    return results


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}"


def report(results: dict[str, list[dict]], args: argparse.Namespace, load: tuple[float, float]) -> str:
    names = {
        "anchor": f"anchor: commit {ANCHOR}",
        "cold": "now, chart cache cold",
        "warm": "now, chart cache warm",
    }
    rows = []
    for way, runs in results.items():
        imported = [r["import"] for r in runs]
        first = [r["writes"][0] for r in runs]
        later = [w for r in runs for w in r["writes"][1:]]
        cpu = [c for r in runs for c in r["cpu"][1:]]
        start = [i + f for i, f in zip(imported, first, strict=True)]
        cells = [names[way], *(seconds(values) for values in (imported, first, start, later, cpu))]
        rows.append("| " + " | ".join(cells) + " |")
    per_file = []
    for name in results["anchor"][0]["files"]:
        cells = []
        for runs in results.values():
            times = [t for r in runs for t in r["files"].get(name, [])[1:]]
            cells.append(f"{statistics.median(times) * 1000:.0f}" if times else "–")
        per_file.append(f"| {name} | " + " | ".join(cells) + " |")
    anchor_digests, now_digests = results["anchor"][0]["digests"], results["cold"][0]["digests"]
    same = sorted(n for n in anchor_digests if n.endswith(SAME_BYTES) and anchor_digests[n] == now_digests.get(n))
    differ = sorted(n for n in anchor_digests if n.endswith(SAME_BYTES) and n not in same)
    cold, warm = (statistics.median(w for r in results[way] for w in r["writes"][1:]) for way in ("cold", "warm"))
    cold_cpu, warm_cpu = (statistics.median(c for r in results[way] for c in r["cpu"][1:]) for way in ("cold", "warm"))
    return "\n".join(
        [
            "## Export speed (`bench/export_speed.py`)",
            "",
            f"`write_outputs` on the sample's bundle (304 answers, its codebook), {args.processes} fresh processes per "
            f"way, interleaved, each importing the exporters then writing {args.writes} times (a fresh copy of the "
            "bundle each time, the drawings kept in memory forgotten); medians, on "
            f"{os.cpu_count()} cores shared with other work (load average {load[0]:.1f} at the start, {load[1]:.1f} at "
            f"the end). The anchor is the `pipeline` package of commit {ANCHOR} (charts laid out by constrained "
            "layout, so drawn twice per picture, and each drawn again for the deck; no disk cache), run by the same "
            "bench. A process that draws pays matplotlib's import (now in its first write, before in the import).",
            "",
            "| way | import of the exporters (s) | first write in a process (s) | import + first write (s) "
            "| later writes (s) | later writes, CPU time (s) |",
            "|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Targets (later writes, quiet machine): under {TARGETS['cold']} s with a cold chart cache "
            f"(**{cold:.2f} s** wall, {cold_cpu:.2f} s CPU here), under {TARGETS['warm']} s warm (**{warm:.2f} s** "
            f"wall, {warm_cpu:.2f} s CPU). On a busy machine the CPU time is nearer what a quiet one takes.",
            "",
            "Each file, later writes, median (ms); the first chart file draws every chart of the run (the other "
            "chart files and the deck take the same drawing):",
            "",
            "| file | anchor | now, cold | now, warm |",
            "|---|---:|---:|---:|",
            *per_file,
            "",
            f"Byte-identical to the anchor's: {', '.join(same) or 'none'}"
            + (f"; different: {', '.join(differ)}" if differ else "")
            + ". The PNGs differ (laid out from the texts' sizes, RGB); the XLSX and PPTX hold the same content "
            "(their tests).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=3, help="fresh processes per way")
    parser.add_argument("--writes", type=int, default=5, help="writes timed in each process")
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        tree, bundle, mode, writes, cache = args.child
        print(json.dumps(child(Path(tree), Path(bundle), mode, int(writes), Path(cache))))
        return
    sys.path.insert(0, str(ROOT))
    from bench.results_file import publish

    before = os.getloadavg()[0]
    results = measure(args)
    publish("export_speed", report(results, args, (before, os.getloadavg()[0])), write=not args.no_write)


if __name__ == "__main__":
    main()
