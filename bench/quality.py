"""Our themes against human coding on real answers (../shared/data/elf_dev.csv), next to plain BERTopic.

For each question: NMI and ARI against the human theme on single-label answers, and per-theme F1
on all answers (an answer may carry several human themes and, once split into idea units, several
of ours). Our themes and BERTopic topics are mapped to the human theme most of their answers carry.

    .venv/bin/python bench/quality.py [--data ../shared/data/elf_dev.csv] [--questions FI8 FI7 DC13]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysis  # noqa: E402
from pipeline.embed import embed, load_embedder  # noqa: E402
from pipeline.records import Dataset, Response  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "elf_dev.csv"
EXCLUDED = "(set aside)"
MIN_THEME_ANSWERS = 10  # macro-F1 over human themes carried by at least this many answers


def ours(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Answer id -> our theme ids, in the order of its idea units (first = the longest unit's)."""
    dataset = Dataset([Response(i, t) for i, t in zip(frame.id, frame.text, strict=True)], "text", "id", [], [], "")
    analysed = Analysis().run(dataset)
    unit_theme = {a.unit_id: a.theme_id for a in analysed.clustered.assignments}
    themes: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for unit in analysed.cleaned.units:
        themes[unit.respondent_id].append((-len(unit.lemmas.split()), unit_theme[unit.unit_id]))
    return {rid: [theme for _, theme in sorted(pairs)] for rid, pairs in themes.items()}


def bertopic_defaults(frame: pd.DataFrame, embedder_name: str) -> dict[str, list[str]]:
    from bertopic import BERTopic

    vectors, _ = embed(frame.text.tolist(), load_embedder(embedder_name))
    topics, _ = BERTopic(language="multilingual").fit_transform(frame.text.tolist(), embeddings=vectors)
    return {rid: [str(t)] for rid, t in zip(frame.id, topics, strict=True)}


def score(frame: pd.DataFrame, predicted: dict[str, list[str]]) -> dict[str, float]:
    gold = {rid: labels.split("; ") for rid, labels in zip(frame.id, frame.labels, strict=True)}
    primary = {rid: predicted.get(rid, [EXCLUDED])[0] for rid in frame.id}
    single = frame[~frame.labels.str.contains(";")]
    y_true = single.label.tolist()
    y_pred = [primary[rid] for rid in single.id]
    # each predicted theme stands for the human theme most of its answers carry
    votes: dict[str, Counter] = defaultdict(Counter)
    for rid, themes in predicted.items():
        for theme in set(themes):
            votes[theme].update(gold[rid])
    mapped = {theme: counts.most_common(1)[0][0] for theme, counts in votes.items()}
    tp, fp, fn = Counter(), Counter(), Counter()
    for rid in frame.id:
        truth = set(gold[rid])
        guess = {mapped[t] for t in predicted.get(rid, []) if t in mapped}
        for label in guess & truth:
            tp[label] += 1
        for label in guess - truth:
            fp[label] += 1
        for label in truth - guess:
            fn[label] += 1
    support = Counter(label for labels in gold.values() for label in labels)
    f1 = [2 * tp[t] / (2 * tp[t] + fp[t] + fn[t]) for t, n in support.items() if n >= MIN_THEME_ANSWERS]
    n_topics = len({t for themes in predicted.values() for t in themes})
    return {
        "topics": n_topics,
        "nmi": normalized_mutual_info_score(y_true, y_pred),
        "ari": adjusted_rand_score(y_true, y_pred),
        "macro_f1": float(np.mean(f1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", nargs="+", default=["FI8", "FI7", "DC13"])
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: labelled data not found at {args.data} (give --data)")
    data = pd.read_csv(args.data, dtype=str).fillna("")
    methods = {
        "verbatims (ours)": ours,
        "BERTopic defaults + USE": lambda f: bertopic_defaults(f, "use-multilingual"),
        "BERTopic defaults + all-MiniLM-L6-v2": lambda f: bertopic_defaults(f, "minilm"),
    }
    lines = [
        "| question | answers (single-label) | human themes | method | topics | NMI | ARI | macro-F1 | time (s) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for question in args.questions:
        frame = data[data.question == question].reset_index(drop=True)
        n_single = int((~frame.labels.str.contains(";")).sum())
        n_themes = frame.labels.str.split("; ").explode().nunique()
        for name, method in methods.items():
            start = time.perf_counter()
            result = score(frame, method(frame))
            elapsed = time.perf_counter() - start
            lines.append(
                f"| {question} | {len(frame)} ({n_single}) | {n_themes} | {name} | {result['topics']} | "
                f"{result['nmi']:.3f} | {result['ari']:.3f} | {result['macro_f1']:.3f} | {elapsed:.0f} |"
            )
            print(lines[-1], flush=True)
    body = "\n".join(
        [
            "## Quality against human coding (`bench/quality.py`)",
            "",
            f"Data: `{args.data.name}`, one question at a time. NMI and ARI on single-label answers (answers we set "
            "aside count as one extra cluster); macro-F1 over human themes carried by at least "
            f"{MIN_THEME_ANSWERS} answers, on all answers, each predicted theme mapped to its majority human theme. "
            "Times include embedding only where the cache was cold.",
            "",
            *lines,
        ]
    )
    publish("quality", body, write=not args.no_write)


if __name__ == "__main__":
    main()
