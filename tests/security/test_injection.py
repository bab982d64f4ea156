"""Issue 18, case 6: answers that carry Markdown stay text in report.md and the Prefect artifact (the same
``markdown_report``), rendered here with markdown-it (CommonMark, with GFM tables and autolinks as Prefect's UI has
them) as a reader's viewer would."""

import re

import pytest
from markdown_it import MarkdownIt

from pipeline.export import markdown_report
from pipeline.manifest import InputInfo, Manifest, count
from pipeline.markdown import md_text
from pipeline.nets import summarise_nets
from pipeline.records import Excluded, IdeaUnit, Theme

PAYLOADS = [
    "Rien ![x](//127.0.0.1:8765/pixel.png)",
    "[cliquez ici](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "voir https://evil.example/x et www.evil.example",
    "**gras** _souligné_ `code` | cellule | ~~barré~~",
    "[lien][1]\n\n[1]: //evil.example/ref",
]
RENDER = MarkdownIt("commonmark").enable("table")


def rendered(markdown: str) -> str:
    return RENDER.render(markdown)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_renders_as_its_own_text(payload):
    html = rendered(md_text(payload))
    assert "<img" not in html and "<a " not in html and "<strong>" not in html and "<code>" not in html
    assert "<em>" not in html and "<del>" not in html and "<s>" not in html


def test_the_report_renders_no_link_image_or_markup_from_answers_labels_keywords_or_segments():
    theme = Theme(
        "t1",
        PAYLOADS[1],
        ["![k](//evil.example/k.png)", "[k](javascript:1)"],
        rank=1,
        n_units=3,
        n_respondents=3,
        share=0.6,
        quotes=PAYLOADS[:3],
        segments={"![s](//evil.example/s.png)": {"[v](javascript:1)": 0.5}},
        segment_bases={"![s](//evil.example/s.png)": {"[v](javascript:1)": 2}},
        net_id="t1",
        net_label=PAYLOADS[0],
    )
    units = [IdeaUnit(f"r{i}", f"r{i}", p, "x") for i, p in enumerate(PAYLOADS[:3])]
    excluded = [Excluded("r9", PAYLOADS[3], "réponse vide")]
    manifest = Manifest(
        run_id="r1",
        question="Q ![q](//evil.example/q.png) ?",
        input=InputInfo(file="in.csv", sha256="0" * 64, segment_columns=["![s](//evil.example/s.png)"]),
        parameters={},
        counts=count(4, units, excluded, 1),
    )
    html = rendered(markdown_report([theme], manifest, excluded, summarise_nets([theme], [], units)))
    assert "evil.example" in html and "javascript:" in html  # the text is there, as text
    assert "<a " not in html and "<strong>" not in html  # no link, no markup from the data
    assert not re.search(r"<img [^>]*src=\"(?!chart-)", html)  # the report's own charts are its only images
