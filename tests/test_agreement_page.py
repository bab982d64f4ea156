"""The double coding and agreement pages in a real browser (Debian's Chromium through Playwright), at a desktop's
1280×800 and a phone's 390×844: two reviewers code the same units blind, the agreement page gives the figures,
a third reviewer settles the disagreement.

Set VERBATIMS_SCREENSHOTS=docs to refresh docs/agreement.png (and the phone's views) from this run.
"""

import os
from pathlib import Path

import pytest
from test_web_e2e import PASSWORD, analysed_run, browser, expect, server, store  # noqa: F401  (fixtures reused)

from review.agreement import agreement
from review.corrections import load_state
from review.double_coding import assign
from review.users import add_user

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def sign_in(chromium, base: str, name: str, viewport: dict):
    page = chromium.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def code_all(page, base: str, run: str, mains: list[str]) -> None:
    """Code the units shown one after the other, each with its main theme only."""
    page.goto(f"{base}/runs/{run}/coding")
    for i, theme in enumerate(mains):
        expect(page.locator("#progress .done")).to_have_text(str(i))
        page.locator(f'#code .choice[data-theme="{theme}"] label.main').click()
        page.click("#code button.primary")
        expect(page.locator(".message")).to_have_text("Idée codée.")
    expect(page.locator("#all-done")).to_be_visible()


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def french(value: float) -> str:
    return f"{value:.3f}".replace(".", ",")


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_two_reviewers_code_blind_the_page_gives_the_figures_and_a_third_settles(server, browser, device, tmp_path):  # noqa: F811 (fixtures)
    db, run, base = server
    viewport = VIEWPORTS[device]
    shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))
    for name in ("ana", "bob", "cid"):
        add_user(db, name, PASSWORD, "reviewer")
    units = assign(db, run, 3, ["ana", "bob"], by="cid", seed=1)
    ana, bob, cid = (sign_in(browser, base, name, viewport) for name in ("ana", "bob", "cid"))
    ana.goto(f"{base}/runs/{run}/coding")
    a, b = (ana.locator("#code .choice").nth(i).get_attribute("data-theme") for i in range(2))
    assert ana.locator("#code").get_attribute("data-unit") == units[0] and fits(ana, viewport["width"])
    if device == "phone":
        ana.screenshot(path=str(shots / "coding-phone.png"), full_page=True)

    code_all(ana, base, run, [a, a, b])
    bob.goto(f"{base}/runs/{run}/coding")  # blind: nothing of ana's shows to bob
    expect(bob.locator(".tasks li em")).to_have_count(3)
    assert bob.locator(".picker input:checked").count() == 0
    bob.goto(f"{base}/runs/{run}/agreement")
    expect(bob.locator("#counts .both")).to_have_text("0")
    expect(bob.locator("#kappa")).to_have_text("—")
    code_all(bob, base, run, [a, b, b])

    # main themes a a b / a b b: observed 2/3; kappa (2/3 - 4/9) / (5/9) = 0.4;
    # alpha: six values, three of each, two disagreeing pairs: 1 - 5 * 2 / (36 - 9 - 9) = 4/9
    cid.goto(f"{base}/runs/{run}")
    cid.click("#agreement-link")
    expect(cid.locator("#counts .both")).to_have_text("3")
    expect(cid.locator("#alpha")).to_have_text("0,444")
    expect(cid.locator("#kappa")).to_have_text("0,400")
    expect(cid.locator("#observed")).to_have_text("0,667")
    expect(cid.locator(f'.per-theme tr[data-theme="{a}"] .kappa')).to_have_text("0,400")
    report = agreement(db, run)
    for m in report.machine:
        expect(cid.locator(f'.machine tr[data-reviewer="{m.reviewer}"] .kappa')).to_have_text(
            french(m.kappa) if m.kappa is not None else "—"
        )
    expect(cid.locator("#disagreements")).to_have_text("1, dont 0 tranchés")
    assert fits(cid, viewport["width"])
    ana.goto(f"{base}/runs/{run}/agreement")  # a coder does not settle her own disagreement
    expect(ana.locator(f'.disagreement[data-unit="{units[1]}"]')).to_contain_text("Vous avez codé cette idée")
    expect(ana.locator(".disagreement form.settle")).to_have_count(0)

    disagreement = cid.locator(f'.disagreement[data-unit="{units[1]}"]')
    expect(disagreement.locator(".codings")).to_contain_text("ana")
    disagreement.locator("summary").click()
    disagreement.locator(f'.choice[data-theme="{b}"] label.main').click()
    disagreement.locator(f'.choice[data-theme="{a}"] label.also').click()
    if device == "desktop":
        cid.screenshot(path=str(shots / "agreement.png"), full_page=True)
    disagreement.locator("button.primary").click()
    expect(cid.locator(".message")).to_have_text("#1 désaccord tranché.")
    expect(cid.locator("#disagreements")).to_have_text("1, dont 1 tranchés")
    expect(cid.locator(f'.disagreement[data-unit="{units[1]}"] .outcome')).to_contain_text("Tranché par cid")
    if device == "phone":
        cid.screenshot(path=str(shots / "agreement-phone.png"), full_page=True)
    state = load_state(db, run)
    assert state.labels[units[1]] == [b, a] and units[1] in state.reviewed  # counts as reviewed for retraining
