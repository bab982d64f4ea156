"""Issue 15's must-show checks on the bundled sample, analysed with its codebook, against its gold coding.

- the net holding the ``sponsorship`` code (where leadership and sponsorship answers should meet) ranks 1st or 2nd;
- no catch-all in the top 3: neither "Autres", nor a net of mixed codes only, nor a bag (its most common gold
  theme covers under 35% of its respondents, as in ``bench/quality.py``);
- the top 3 nets are the gold's top 3 themes by respondents (each net read as its most common gold theme).

Nets are taken in the order the report shows them (the themes' ranks); a code with no net is its own net.
Shares are of respondents with a kept idea unit, each counted once per net.

    .venv/bin/python bench/sample_quality.py [--no-write]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.quality import BAG_COVERAGE, majority, prediction  # noqa: E402
from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.records import OTHER_ID  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "verbatims" / "panorama_culture_client_2025"
SPONSORSHIP = "sponsorship"
TOP = 3


@dataclass
class Row:
    """A net (or a code) as the checks read it."""

    key: str
    label: str
    codes: list[str]
    respondents: set[str]
    mixed: bool

    def gold_theme(self, gold: dict[str, set[str]]) -> tuple[str, float]:
        return majority(self.respondents, gold)

    def catch_all(self, gold: dict[str, set[str]]) -> bool:
        return self.key == OTHER_ID or self.mixed or self.gold_theme(gold)[1] < BAG_COVERAGE


def read_gold(path: Path) -> dict[str, set[str]]:
    frame = pd.read_csv(path, dtype=str).fillna("")
    return {rid: {t.strip() for t in themes.split(";")} - {""} for rid, themes in zip(frame.id, frame.themes, strict=True)}


def nets_and_codes(analysed: Analysed) -> tuple[list[Row], list[Row]]:
    """Nets, then codes, in the report's order, each with the respondents who carry it."""
    carried: dict[str, set[str]] = defaultdict(set)
    for rid, codes in prediction(analysed).themes.items():
        for code in codes:
            carried[code].add(rid)
    ranked = sorted(analysed.themes, key=lambda t: t.rank)
    nets: dict[str, Row] = {}
    for theme in ranked:
        key = theme.net_id or theme.theme_id
        row = nets.setdefault(key, Row(key, theme.net_label or theme.label, [], set(), True))
        row.codes.append(theme.theme_id)
        row.respondents |= carried[theme.theme_id]
        row.mixed = row.mixed and theme.mixed
    codes = [Row(t.theme_id, t.label, [t.theme_id], carried[t.theme_id], t.mixed) for t in ranked]
    return list(nets.values()), codes


def table(title: str, rows: list[Row], gold: dict[str, set[str]], base: int) -> list[str]:
    lines = [
        f"| {title} | label | codes | share | most common gold theme (covers) | catch-all |",
        "|---:|---|---|---:|---|---|",
    ]
    for rank, row in enumerate(rows, start=1):
        theme, cover = row.gold_theme(gold)
        lines.append(
            f"| {rank} | {row.label} | {', '.join(row.codes)} | {len(row.respondents) / base:.0%} | "
            f"{theme or '-'} ({cover:.0%}) | {'yes' if row.catch_all(gold) else 'no'} |"
        )
    return lines


def checks(nets: list[Row], gold: dict[str, set[str]], gold_top: list[str]) -> list[str]:
    holder = next((rank for rank, net in enumerate(nets, start=1) if SPONSORSHIP in net.codes), None)
    with_sponsorship = nets[holder - 1].codes if holder else []
    catch_alls = [net.label for net in nets[:TOP] if net.catch_all(gold)]
    ours = [net.gold_theme(gold)[0] for net in nets[:TOP]]
    verdict = {True: "**met**", False: "**not met**"}
    return [
        f"- The net holding `{SPONSORSHIP}` ranks {holder} (codes: {', '.join(with_sponsorship)}): "
        f"{verdict[holder is not None and holder <= 2]}.",
        f"- Catch-alls in the top {TOP} nets: {', '.join(catch_alls) or 'none'}: {verdict[not catch_alls]}.",
        f"- Top {TOP} nets read as gold themes {', '.join(ours)}; gold's top {TOP}: {', '.join(gold_top)}: "
        f"{verdict[set(ours) == set(gold_top)]}.",
    ]


def report(analysed: Analysed, gold: dict[str, set[str]]) -> str:
    nets, codes = nets_and_codes(analysed)
    base = len(prediction(analysed).themes)
    counts = Counter(theme for themes in gold.values() for theme in themes)
    gold_top = [theme for theme, _ in counts.most_common(TOP)]
    gold_line = ", ".join(f"{theme} {n / len(gold):.0%}" for theme, n in counts.most_common(TOP))
    return "\n".join(
        [
            "## The sample's must-show checks (`bench/sample_quality.py`)",
            "",
            f"`{SAMPLE.name}.csv` with its codebook, against `{SAMPLE.name}.gold.csv` ({len(gold)} answers). Gold's "
            f"top {TOP} themes by respondents: {gold_line}. Shares: of respondents with a kept idea unit, once per "
            f'net. Catch-all: "Autres", a net of mixed codes only, or one whose most common gold theme covers under '
            f"{BAG_COVERAGE:.0%} of its respondents. {len(nets)} nets over {len(codes)} codes.",
            "",
            *checks(nets, gold, gold_top),
            "",
            *table("net", nets[:TOP], gold, base),
            "",
            *table("code", codes[:TOP], gold, base),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print only, leave bench/RESULTS.md alone")
    args = parser.parse_args()
    analysis = Analysis(codebook=load_codebook(SAMPLE.with_suffix(".codebook.yaml")))
    analysed = analysis.run(analysis.ingest(SAMPLE.with_suffix(".csv")))
    publish("sample_quality", report(analysed, read_gold(SAMPLE.with_suffix(".gold.csv"))), write=not args.no_write)


if __name__ == "__main__":
    main()
