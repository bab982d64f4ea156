"""The run page's segment view (issue 17 items 2 and 3), a merged theme's old address and the report's way back to
its run (item 9), on a real SQLite store through the FastAPI app; the segment filter once more in Chromium.

The hand-built run: 40 "Direction", 40 "Terrain" and 5 "Stagiaire" respondents. Overall "accueil" (44) ranks above
the net "Coût" (40: "prix" 35 and "tarifs" 13); among Direction, Coût (35 of 40) and its "prix" (30) come first.
"""

import html
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web import PASSWORD, rows_in_order, sign_in
from test_web_e2e import browser, expect, serving  # noqa: F401 (fixtures)

from pipeline.manifest import InputInfo, Manifest, count
from pipeline.records import Assignment, CleanResult, ClusterResult, Dataset, IdeaUnit, Response, Theme
from review.corrections import correct, history
from review.runs import RunRecord, record_run
from review.store import Store
from review.users import add_user
from web.app import create_app

RUN = "segmented"
TEXTS = {
    "prix": "les prix sont bien trop élevés pour notre budget",
    "tarifs": "la grille tarifaire reste illisible et change sans cesse",
    "accueil": "un accueil chaleureux et un personnel attentif",
    "autres": "je ne sais pas quoi répondre",
}


def _people(prefix: str, first: int, last: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(first, last + 1)]


# respondent -> (fonction, codes raised)
RESPONDENTS: dict[str, tuple[str, list[str]]] = {}
for rid in _people("D", 1, 40):
    RESPONDENTS[rid] = ("Direction", [])
for rid in _people("T", 1, 40):
    RESPONDENTS[rid] = ("Terrain", [])
for rid in _people("S", 1, 5):
    RESPONDENTS[rid] = ("Stagiaire", [])
for code, people in {
    "prix": _people("D", 1, 30) + _people("T", 1, 5),
    "tarifs": _people("D", 26, 35) + _people("S", 1, 3),
    "accueil": _people("D", 36, 40) + _people("T", 6, 40) + _people("S", 1, 4),
    "autres": _people("T", 1, 3) + ["S5"],
}.items():
    for rid in people:
        RESPONDENTS[rid][1].append(code)


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "segments.sqlite"))


@pytest.fixture
def segmented(store):
    """The run recorded as ``verbatims analyze`` records one, without running the models: (store, signed-in client)."""
    units, assignments = [], []
    for rid, (_, codes) in RESPONDENTS.items():
        for n, code in enumerate(codes):
            text = f"{TEXTS[code]} ({rid})"  # each idea its own text: a quote names its respondent
            units.append(IdeaUnit(f"{rid}#{n}", rid, text, text))
            assignments.append(Assignment(f"{rid}#{n}", code, 0.9))
    themes = [
        Theme("prix", "Prix trop élevés", ["prix"]),
        Theme("tarifs", "Tarifs peu clairs", ["tarif"]),
        Theme("accueil", "Accueil du personnel", ["accueil"]),
        Theme("autres", "Autres", ["savoir"]),
    ]
    responses = [Response(rid, "", {"fonction": fonction}) for rid, (fonction, _) in RESPONDENTS.items()]
    manifest = Manifest(
        run_id=RUN,
        question="Que pensez-vous de nos services ?",
        input=InputInfo(file="barometre.csv", sha256="x", segment_columns=["fonction"]),
        parameters={"codebook_nets": {"prix": "Coût", "tarifs": "Coût"}},
        counts=count(len(responses), units, [], len(themes)),
    )
    dataset = Dataset(responses, "t", "id", ["fonction"], [], "x")
    clustered = ClusterResult(themes, assignments, {})
    record_run(store, RunRecord(manifest, dataset, CleanResult(units, []), clustered, "use-multilingual", Path(".")))
    add_user(store, "rita", PASSWORD, "reviewer")
    client = TestClient(create_app(store, secret="segments"))
    sign_in(client, "rita")
    return store, client


def run_page(client: TestClient, segment: str = "") -> str:
    response = client.get(f"/runs/{RUN}", params={"segment": segment} if segment else None)
    assert response.status_code == 200, response.text
    return response.text


def row(page: str, theme_id: str) -> str:
    """A code's row of the run page."""
    start = page.index(f'data-theme="{theme_id}"')
    return html.unescape(page[start : page.index("</tr>", start)]).replace("\xa0", " ")  # no-break spaces read as spaces


def quotes(page: str, theme_id: str) -> list[str]:
    return re.findall(r"<li>« ([^<]+) »</li>", row(page, theme_id))


def test_without_a_segment_the_run_ranks_its_own_figures(segmented):
    _, client = segmented
    page = run_page(client)
    assert rows_in_order(page) == [("1", "accueil"), ("2", "net"), ("2.1", "prix"), ("2.2", "tarifs"), ("3", "autres")]
    assert "51,8 % (44)" in re.sub(r"</span> <small class=\"respondents\">", " ", row(page, "accueil"))
    assert "segment-base" not in page and "significance-legend" not in page and "IC 95 %" not in page


def test_a_segment_reranks_its_rows_and_shows_its_own_counts_base_and_quotes(segmented):
    _, client = segmented
    page = run_page(client, "fonction=Direction")
    # Coût and its "prix" first among Direction, "accueil" (5 of 40) below them; "Autres" last, as overall
    assert rows_in_order(page) == [("1", "net"), ("1.1", "prix"), ("1.2", "tarifs"), ("2", "accueil"), ("3", "autres")]
    shares = {t: re.search(r'class="share">([^<]+)</span> <small class="respondents">\((\d+)\)', row(page, t)).groups()
              for t in ("prix", "tarifs", "accueil", "autres")}  # fmt: skip
    assert shares == {
        "prix": ("75,0 %", "30"),
        "tarifs": ("25,0 %", "10"),
        "accueil": ("12,5 %", "5"),
        "autres": ("0,0 %", "0"),
    }
    net = html.unescape(page[page.index('<tr class="net"') : page.index('data-theme="prix"')])
    assert "87,5 %" in net and "(35)" in net  # D1–D35: the five raising both codes counted once
    text = html.unescape(page)
    assert "Parts parmi les 40 répondants du segment « fonction : Direction »" in text
    for theme_id in ("prix", "tarifs", "accueil"):  # quotes of Direction respondents only
        shown = quotes(page, theme_id)
        assert shown and all(re.search(r"\(D\d+\)$", q) for q in shown), (theme_id, shown)
    assert quotes(page, "autres") == [] and "Aucune citation de ce segment pour ce thème." in row(page, "autres")
    # codes re-sort inside a net too: among Stagiaire, "tarifs" (3) comes before "prix" (0)
    page = run_page(client, "fonction=Stagiaire")
    assert rows_in_order(page) == [("1", "accueil"), ("2", "net"), ("2.1", "tarifs"), ("2.2", "prix"), ("3", "autres")]
    assert "Parts parmi les 5 répondants du segment « fonction : Stagiaire »" in html.unescape(page)


def test_significant_cells_are_marked_and_small_bases_are_not_tested(segmented):
    _, client = segmented
    page = run_page(client, "fonction=Direction")
    prix, accueil = row(page, "prix"), row(page, "accueil")
    assert 'class="sig above"' in prix and "▲" in prix  # 30 of 40 against 5 of 45: p < 10⁻⁹
    assert 'class="sig below"' in accueil and "▼" in accueil  # 5 of 40 against 39 of 45
    assert "IC 95 % : 59,8 % – 85,8 %" in prix  # Wilson, 30 of 40, by hand: 0.5981 to 0.8581
    assert "non testé" not in prix
    legend = html.unescape(re.search(r'<p class="help" id="significance-legend">([^<]+)</p>', page).group(1))
    assert "5\xa0%" in legend  # the figure and its sign never apart
    assert "Benjamini-Hochberg" in legend and "moins de 30 répondants non testées" in legend

    page = run_page(client, "fonction=Stagiaire")  # 5 respondents: shown with their interval, never tested
    for theme_id in ("prix", "tarifs", "accueil", "autres"):
        cells = row(page, theme_id)
        assert 'class="untested help">base < 30 : non testé' in cells and "▲" not in cells and "▼" not in cells
        assert "IC 95 % : " in cells


def test_the_api_gives_the_same_segment_view(segmented):
    _, client = segmented
    overall = client.get(f"/api/runs/{RUN}").json()
    assert "segment" not in overall and [n["label"] for n in overall["nets"]] == ["Accueil du personnel", "Coût", "Autres"]
    body = client.get(f"/api/runs/{RUN}", params={"segment": "fonction=Direction"}).json()
    assert body["segment"] == {"column": "fonction", "value": "Direction", "base": 40}
    nets = body["nets"]
    assert [(n["label"], n["rank"], n["n_respondents"], n["share"]) for n in nets] == [
        ("Coût", 1, 35, 0.875),
        ("Accueil du personnel", 2, 5, 0.125),
        ("Autres", 3, 0, 0.0),
    ]
    prix, tarifs = nets[0]["codes"]
    assert nets[0]["code_ids"] == ["prix", "tarifs"] and (prix["number"], tarifs["number"]) == ("1.1", "1.2")
    assert (prix["n_respondents"], prix["share"], prix["significant"], prix["direction"]) == (30, 0.75, True, "above")
    assert all(q.endswith(")") and "(D" in q for q in prix["quotes"])
    assert nets[1]["codes"][0]["direction"] == "below" and nets[1]["codes"][0]["significant"]
    small = client.get(f"/api/runs/{RUN}", params={"segment": "fonction=Stagiaire"}).json()
    assert not any(c["tested"] for n in small["nets"] for c in n["codes"])
    assert client.get(f"/api/runs/{RUN}", params={"segment": "nope=x"}).status_code == 400


def test_unknown_segments_are_refused_in_french(segmented):
    _, client = segmented
    for segment, said in (("nope=x", "segment inconnu « nope » : au choix fonction"), ("fonction=Autre", "aucun")):
        response = client.get(f"/runs/{RUN}", params={"segment": segment})
        assert response.status_code == 400 and said in html.unescape(response.text)


def test_a_merged_themes_old_address_leads_to_the_theme_it_went_into(segmented):
    store, client = segmented
    correct(store, RUN, "rita", "merge", target="prix", sources=["tarifs"])
    response = client.get(f"/runs/{RUN}/themes/tarifs", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/runs/{RUN}/themes/prix?merged=tarifs"
    page = html.unescape(client.get(f"/runs/{RUN}/themes/tarifs").text)
    at = history(store, RUN)[0].at
    note = re.search(r'<p class="message" id="merged-note" role="status">([^<]+)</p>', page).group(1)
    assert note == (
        f"Le thème « Tarifs peu clairs » a été fusionné dans « Prix trop élevés » le {at:%d/%m/%Y à %H:%M} (UTC) : "
        "voici le thème qui a reçu ses idées."
    )
    assert "<h1>Prix trop élevés</h1>" in page
    # the theme's own address says nothing of merges; a false "merged" says nothing either
    assert "merged-note" not in client.get(f"/runs/{RUN}/themes/prix").text
    assert "merged-note" not in client.get(f"/runs/{RUN}/themes/prix", params={"merged": "accueil"}).text
    # once the merge is undone, the old address is the theme's own again
    correct(store, RUN, "rita", "undo", event=1)
    assert client.get(f"/runs/{RUN}/themes/tarifs", follow_redirects=False).status_code == 200


def test_a_theme_that_never_existed_is_a_french_404(segmented):
    _, client = segmented
    response = client.get(f"/runs/{RUN}/themes/jamais-vu")
    assert response.status_code == 404
    text = html.unescape(response.text)
    assert "Erreur 404" in text and "aucun thème « jamais-vu » dans l'analyse segmented" in text
    assert "no theme" not in text and "not found" not in text.lower()


def test_every_report_links_back_to_its_run(segmented):
    _, client = segmented
    for path in (f"/runs/{RUN}/report", f"/runs/{RUN}/download/html"):
        page = client.get(path).text
        link = re.search(r'<a href="([^"]+)" id="run-link">([^<]+)</a>', page)
        assert link and link.group(1) == f"/runs/{RUN}", path  # root-relative: served by the app it came from
        assert client.get(link.group(1)).status_code == 200


@pytest.mark.slow
def test_choosing_a_segment_in_the_browser_reranks_the_rows(segmented, browser, tmp_path):  # noqa: F811
    """On a phone; set VERBATIMS_SCREENSHOTS=docs to refresh docs/phone-segment.png from this run."""
    store, _ = segmented
    app = create_app(store, secret="segments-browser")
    app.state.web.ranked.get(RUN)  # ranked before serving: the browser's clicks wait for pages, not for the ranking
    with serving(app) as base:
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{base}/runs/{RUN}")
        page.fill("input[name=username]", "rita")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/runs/{RUN}")
        order = "rows => rows.map(r => r.dataset.theme || 'net')"
        assert page.eval_on_selector_all("tbody tr", order) == ["accueil", "net", "prix", "tarifs", "autres"]
        page.select_option("select[name=segment]", "fonction=Direction")
        with page.expect_navigation():
            page.click("text=Filtrer")
        assert page.eval_on_selector_all("tbody tr", order) == ["net", "prix", "tarifs", "accueil", "autres"]
        expect(page.locator("#segment-base")).to_contain_text("Parts parmi les 40 répondants du segment")
        expect(page.locator('tr[data-theme="prix"] .sig')).to_have_text("▲")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the segment view fits a phone
        shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))
        page.screenshot(path=str(shots / "phone-segment.png"), full_page=True)
