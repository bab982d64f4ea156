"""Every page on a phone (390×844) in a real browser (Debian's Chromium through Playwright, the server of
test_web_e2e), signed in as an admin, who sees the most controls: nothing wider than the screen, no horizontal
scroll; wide tables become cards; the sign-in and sign-out buttons tall enough to tap (44 px).

Set VERBATIMS_SCREENSHOTS=docs to refresh docs/phone-runs.png, docs/phone-run.png and docs/phone-report.png.
"""

import os
from pathlib import Path

import pytest
from test_web_e2e import PASSWORD, analysed_run, browser, expect, serving, store  # noqa: F401 (fixtures)

from review.shares import create_link
from review.users import add_user
from web.app import create_app
from web.jobs import Job

PHONE = {"width": 390, "height": 844}
LONG = "https://exemple.fr/" + "anticonstitutionnellement" * 6  # no space nor hyphen to break it at


@pytest.fixture
def site(analysed_run):  # noqa: F811
    """The served sample, an admin, and a finished job whose message is one long unbreakable word."""
    db, run = analysed_run
    add_user(db, "ada", PASSWORD, "admin")
    app = create_app(db, secret="phone")
    job = Job("job-phone", "classify", "ada", state="failed", message=LONG, alerts=[LONG], run_id=run)
    app.state.web.jobs._jobs[job.job_id] = job
    with serving(app) as base:
        yield db, run, base


def width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


OVERFLOWING = """Array.from(document.querySelectorAll('main *, header *'))
  .filter(e => e.getBoundingClientRect().right > 391)
  .filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > 391))
  .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' '
    + Math.round(e.getBoundingClientRect().right) + ' ' + e.textContent.trim().slice(0, 30))"""


LOW_BUTTONS = """Array.from(document.querySelectorAll('main button, header button')).filter(b => b.offsetParent)
  .filter(b => b.getBoundingClientRect().height < 44).map(b => b.textContent.trim().slice(0, 30))"""


def overflowing(page) -> list[str]:
    """The innermost elements reaching past the screen's right edge, to say what widened a page."""
    return page.evaluate(OVERFLOWING)


def height(page, selector: str) -> float:
    return page.locator(selector).bounding_box()["height"]


def test_every_page_fits_a_phone(site, browser, tmp_path):  # noqa: F811
    db, run, base = site
    shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()

    page.goto(f"{base}/login")
    assert width(page) <= 390, "login"
    heights = {"sign in": height(page, "form.login button[type=submit]"), "user": height(page, "input[name=username]")}
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{base}/")
    heights["sign out"] = height(page, "header form button")

    theme = load_theme(db, run)
    token = create_link(db, run, "ada", note=LONG).token  # listed on the run page; its report read below
    pages = {
        "runs": "/",
        "run": f"/runs/{run}",
        "theme": f"/runs/{run}/themes/{theme}",
        "queue": f"/runs/{run}/queue",
        "report": f"/runs/{run}/report",
        "coding": f"/runs/{run}/coding",
        "agreement": f"/runs/{run}/agreement",
        "shared": f"/partage/{token}",
        "shared-refused": "/partage/" + "A" * 43,
        "job": "/jobs/job-phone",
        "error": "/runs/no-such-run",
    }
    too_wide = {}  # page: its width and what widened it
    too_low = {}  # page: its buttons under 44 px high
    for name, path in pages.items():
        page.goto(base + path)
        if width(page) > 390:
            too_wide[name] = (width(page), overflowing(page))
        low = page.evaluate(LOW_BUTTONS)
        if low:
            too_low[name] = low
        if name in ("runs", "run"):  # the table a card a row: no column headings, each value named
            for headings in page.locator("table.cards thead").all():  # the run page's share links are cards too
                expect(headings).to_be_hidden()
            assert page.locator("table.cards td[data-label]").first.evaluate(
                "td => getComputedStyle(td).display === 'block' && getComputedStyle(td, '::before').content.includes(' : ')"
            )
        if name in ("report", "shared"):  # the charts are drawn: the pages' policy lets their data: images load
            drawn = page.locator("section.charts img").evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
            assert drawn and all(drawn), (name, drawn)
        if name in ("runs", "run", "report"):
            page.screenshot(path=str(shots / f"phone-{name}.png"))  # the first screen
    assert page.locator("h1").inner_text() == "Erreur 404"  # the error page was the one measured
    assert not too_wide, too_wide
    assert all(h >= 44 for h in heights.values()), heights
    assert not too_low, too_low


def load_theme(db, run) -> str:
    from review.corrections import load_state

    return next(t for t in load_state(db, run).themes if t != "autres")
