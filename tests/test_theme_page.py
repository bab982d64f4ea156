"""The theme page in a real browser (Debian's Chromium through Playwright), on a desktop and on a phone screen:
twenty units ticked and moved in one correction, undone in one step; the units' themes by label, closest first; each
unit's "Corriger" menu on its own theme; "20 les plus proches"; a merge that asks first, naming both themes' sizes.

Set VERBATIMS_SCREENSHOTS=docs to refresh docs/theme-bulk.png from this run.
"""

import os
import re
from pathlib import Path

import pytest
import test_web_e2e as e2e

from review.corrections import history, load_state
from review.runs import reviewed_run
from review.similar import most_similar

# The browser test's own run, server and Chromium (its ``store`` is one SQLite file, not the two databases)
store, analysed_run, server, browser = e2e.store, e2e.analysed_run, e2e.server, e2e.browser
expect = e2e.expect

SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
TARGETS = "main a, main button, main select, main summary, main input[type=search], main input[name=label], td.pick label"


def open_theme(browser, base: str, run: str, theme: str, screen: str):
    page = browser.new_page(viewport=SCREENS[screen])
    page.goto(f"{base}/runs/{run}/themes/{theme}")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", e2e.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/runs/{run}/themes/{theme}")
    return page


def two_themes(state) -> tuple[str, str]:
    """The largest theme other than "Autres" (the page to correct), and the next (where units go)."""
    sizes = sorted(((len(state.members(t)), t) for t in state.themes if t != "autres"), reverse=True)
    assert sizes[0][0] >= 25  # twenty to move, and more: the theme stays
    return sizes[0][1], sizes[1][1]


def ticked(page) -> list[str]:
    return page.eval_on_selector_all('input[form="bulk"]:checked', "boxes => boxes.map(b => b.value)")


@pytest.mark.parametrize("screen", SCREENS)
def test_twenty_units_move_in_one_correction_and_come_back_in_one_undo(server, browser, screen, tmp_path):
    store, run, base = server
    before = load_state(store, run)
    theme, target = two_themes(before)
    page = open_theme(browser, base, run, theme, screen)
    boxes = page.locator('input[form="bulk"]')
    expect(page.locator("#selected-count")).to_have_text("Aucune idée cochée")
    expect(page.locator('button[name=operation][value="move"]')).to_be_disabled()
    boxes.nth(0).click()
    boxes.nth(19).click(modifiers=["Shift"])  # the range in between ticks too
    expect(page.locator("#selected-count")).to_have_text("20 idées cochées")
    chosen = [boxes.nth(i).get_attribute("value") for i in range(20)]
    assert ticked(page) == chosen
    page.select_option("#bulk-to", target)
    if screen == "desktop":
        shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))  # the toolbar and the first units ticked
        top = {"x": 0, "y": 0, "width": 1280, "height": 1200}
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky toolbar is drawn where the ticking left the page
        page.screenshot(path=str(shots / "theme-bulk.png"), full_page=True, clip=top)
    page.click('button[name=operation][value="move"]')
    label = before.themes[target].label
    expect(page.locator(".message")).to_have_text(f"#1 enregistré : 20 idées déplacées vers « {label} »")

    moved = load_state(store, run)
    assert [e.action for e in history(store, run)] == ["bulk"]  # one event for the twenty
    assert all(theme not in moved.labels[u] and target in moved.labels[u] for u in chosen)
    assert set(moved.members(theme)) == set(before.members(theme)) - set(chosen)
    assert not set(chosen) & set(page.eval_on_selector_all("tr[data-unit]", "rows => rows.map(r => r.dataset.unit)"))

    with page.expect_navigation():
        page.click("#undo button")
    assert [e.action for e in history(store, run)] == ["bulk", "undo"]
    assert load_state(store, run).labels == before.labels  # all twenty back, in one step
    assert set(chosen) <= set(page.eval_on_selector_all("tr[data-unit]", "rows => rows.map(r => r.dataset.unit)"))


@pytest.mark.parametrize("screen", SCREENS)
def test_labels_scores_own_theme_menu_nearest_units_and_a_merge_that_asks_first(server, browser, screen):
    store, run, base = server
    state = load_state(store, run)
    theme, target = two_themes(state)
    page = open_theme(browser, base, run, theme, screen)
    rows = page.locator("table.units tbody tr")
    assert rows.count() == len(state.members(theme))
    scores = [float(s) for s in page.eval_on_selector_all("td.score", "cells => cells.map(c => c.dataset.score)")]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]  # closest to the theme first
    assert re.fullmatch(r"0,\d\d", rows.first.locator("td.score").inner_text())
    for i in (0, 1, rows.count() - 1):  # themes by label, this one among them; each menu on the unit's own theme
        unit = rows.nth(i).get_attribute("data-unit")
        shown = rows.nth(i).locator("td.labels li").all_inner_texts()
        assert shown == [state.themes[t].label for t in state.labels[unit]] and state.themes[theme].label in shown
        assert rows.nth(i).locator("select[name=to]").input_value() == theme
    rows.first.locator("summary").click()  # "Déplacer" straight away misfiles nothing: it is already there
    with page.expect_navigation():
        rows.first.locator('button[value="move"]').click()
    assert history(store, run) == []

    unit = rows.nth(2).get_attribute("data-unit")
    rows.nth(2).locator("button.similar").click()
    expect(page.locator("#selected-count")).to_have_text("21 idées cochées")
    assert set(ticked(page)) == {unit, *most_similar(store, run, unit, 20, theme=theme)}

    if screen == "phone":  # nothing wider than the screen, every control big enough for a finger
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        small = page.eval_on_selector_all(
            TARGETS,
            "els => els.filter(e => e.offsetParent).map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])"
            ".filter(([, r]) => r.height < 44 || r.width < 44).map(([html]) => html)",
        )
        assert small == []

    sizes = {t.theme_id: t for t in reviewed_run(store, run).themes}
    page.select_option("#merge select", target)
    page.click("#merge button")
    question = page.locator("#merge-question")
    for t in (sizes[theme], sizes[target]):
        expect(question).to_contain_text(f"« {t.label} » ({t.n_units} idées, {t.n_respondents} répondants)")
    page.click("#merge-no")
    expect(page.locator("#merge-confirm")).to_have_count(0)
    assert history(store, run) == [] and theme in load_state(store, run).themes  # cancelled: nothing merged

    page.select_option("#merge select", target)
    page.click("#merge button")
    with page.expect_navigation():
        page.click("#merge-yes")
    merged = load_state(store, run)
    assert [e.action for e in history(store, run)] == ["merge"] and merged.merged_into == {theme: target}
