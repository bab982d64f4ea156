"""The review queue page in a real browser (Debian's Chromium through Playwright, the server of test_web_e2e):
a whole session by mouse or touch only and by keyboard only, undo after skip, every theme reachable, and the
stale-view sequence of issue 16 ending in a 409 that says who changed what.

Set VERBATIMS_SCREENSHOTS=docs to refresh docs/review-queue.png (1280×800) and docs/review-queue-mobile.png (390×844).
"""

import os
import re
from pathlib import Path

import pytest
from test_retrain import review_like_the_gold
from test_web_e2e import PASSWORD, analysed_run, browser, expect, server, store  # noqa: F401 (fixtures)

from review.corrections import correct, load_state

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def open_queue(chromium, base: str, run: str, viewport: dict):
    touch = viewport == PHONE
    context = chromium.new_context(viewport=viewport, has_touch=touch, is_mobile=touch)
    page = context.new_page()
    page.goto(f"{base}/login?next=/runs/{run}/queue")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/runs/{run}/queue")
    return page


def press(page, locator) -> None:
    """A click, or a tap on the phone (a touch screen: no mouse there)."""
    if page.viewport_size == PHONE:
        locator.tap()
    else:
        locator.click()


def shown(page):
    """The item on screen (only one is)."""
    item = page.locator("article.item:visible")
    expect(item).to_have_count(1)
    return item


def check_layout(page) -> None:
    """Nothing wider than the screen, and every button tall enough to tap (44 px)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('.queue button')).filter(b => b.offsetParent)"
        ".map(b => b.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights


def check_context(item, db, run) -> None:
    """The whole answer with the unit marked in it, the respondent's segments and the machine's theme."""
    answer, marked = item.locator(".answer").inner_text(), item.locator(".answer mark").inner_text()
    assert marked.strip() and marked in answer
    expect(item.locator(".segments li").first).to_be_visible()
    theme = load_state(db, run).themes[item.get_attribute("data-theme")]
    expect(item.locator(".suggestion")).to_contain_text(theme.label)


def unkeyed_theme(page, item) -> str:
    """A theme the item's keys do not offer: only the picker reaches it."""
    keyed = {b.get_attribute("data-to") for b in item.locator("button[data-key]").all()}
    themes = [b.get_attribute("data-to") for b in page.locator("#picker button").all()]
    return next(t for t in themes if t not in keyed)


@pytest.fixture
def reviewed_site(analysed_run, gold, server):  # noqa: F811
    """The served sample once a reviewer settled enough units for the queue to learn: probabilities, held-out
    F1 and nearest reviewed units show."""
    db, run = analysed_run
    assert review_like_the_gold(db, run, gold, 60) >= 40
    return server


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
def test_a_whole_session_by_mouse_or_touch_only(reviewed_site, browser, viewport, tmp_path):  # noqa: F811
    db, run, base = reviewed_site
    page = open_queue(browser, base, run, viewport)
    item = shown(page)
    check_layout(page)
    check_context(item, db, run)
    expect(item.locator(".suggestion")).to_contain_text("probabilité")
    # the words the queue model weighed most (none for a unit whose theme it cannot predict, as "Autres")
    assert page.locator("article.item .reasons q").count() >= 10
    expect(item.locator(".neighbours li").first).to_be_visible()
    expect(page.locator("#progress .f1")).to_have_text(re.compile(r"^\d,\d\d$"))  # the queue model's held-out F1
    reviewed = int(page.locator("#progress .reviewed").inner_text())
    shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / ("review-queue.png" if viewport == DESKTOP else "review-queue-mobile.png")))

    first = item.get_attribute("data-unit")
    press(page, item.locator("button.confirm"))  # 1: keep the machine's theme
    expect(page.locator("#status")).to_contain_text("Idée 1 thème gardé")
    second = shown(page)
    unit2, to2 = second.get_attribute("data-unit"), second.locator('button[data-key="2"]').get_attribute("data-to")
    press(page, second.locator('button[data-key="2"]'))  # the likeliest other theme
    expect(page.locator("#status")).to_contain_text("Idée 2 déplacée vers")
    third = shown(page)
    unit3 = third.get_attribute("data-unit")
    press(page, third.locator("button.off"))
    expect(page.locator("#status")).to_contain_text("Idée 3 marquée hors sujet")
    press(page, page.locator("#skip"))  # item 4 skipped: item 5 shows
    expect(page.locator("article.item").nth(4)).to_be_visible()
    press(page, page.locator("#undo"))  # undo after skip: back to item 3, not item 4
    expect(page.locator("#status")).to_contain_text("l'idée 3 est de nouveau à revoir")
    assert shown(page).get_attribute("data-unit") == unit3
    target = unkeyed_theme(page, third)
    press(page, page.locator("#open-picker"))
    press(page, page.locator(f'#picker button[data-to="{target}"]'))
    expect(page.locator("#status")).to_contain_text("Idée 3 déplacée vers")
    expect(page.locator("article.item").nth(3)).to_be_visible()
    expect(page.locator("#progress .reviewed")).to_have_text(str(reviewed + 3))
    check_layout(page)

    state = load_state(db, run)
    assert first in state.reviewed and to2 in state.labels[unit2] and target in state.labels[unit3]
    assert unit3 not in state.off_topic


def test_a_whole_session_by_keyboard_only_undo_after_skip(server, browser):  # noqa: F811
    db, run, base = server
    page = open_queue(browser, base, run, DESKTOP)
    items = page.locator("article.item")
    check_context(shown(page), db, run)
    unit1, unit2, unit3 = (items.nth(i).get_attribute("data-unit") for i in range(3))
    to2 = items.nth(1).locator('button[data-key="2"]').get_attribute("data-to")
    expect(items.nth(0).locator('button[data-key="1"] kbd')).to_have_text("1")  # the keys show on the buttons
    for key, status in (("1", "Idée 1 thème gardé"), ("2", "Idée 2 déplacée"), ("0", "Idée 3 marquée hors sujet")):
        page.keyboard.press(key)
        expect(page.locator("#status")).to_contain_text(status)
    page.keyboard.press("n")  # skip item 4
    expect(items.nth(4)).to_be_visible()
    page.keyboard.press("u")  # undoes item 3 and shows it
    expect(items.nth(2)).to_be_visible()
    assert unit3 not in load_state(db, run).off_topic

    pickable = {b.get_attribute("data-to") for b in page.locator("#picker button").all()}
    assert pickable == set(load_state(db, run).themes)  # every theme, whatever the keys offer
    target = unkeyed_theme(page, items.nth(2))
    label = page.locator(f'#picker button[data-to="{target}"]').get_attribute("data-label")
    page.keyboard.press("/")
    expect(page.locator("#picker-input")).to_be_focused()
    page.keyboard.type(label)
    expect(page.locator("#picker li:visible button").first).to_have_attribute("data-to", target)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text(f"Idée 3 déplacée vers « {label} »")
    expect(items.nth(3)).to_be_visible()
    assert target in load_state(db, run).labels[unit3]
    page.keyboard.press("u")  # the page's own move, undone: its own saves never make its view stale
    expect(items.nth(2)).to_be_visible()
    page.keyboard.press("1")  # and item 3 chosen again
    expect(page.locator("#status")).to_contain_text("Idée 3 thème gardé")

    state = load_state(db, run)
    assert {unit1, unit3} <= state.reviewed and to2 in state.labels[unit2] and target not in state.labels[unit3]


def test_a_change_made_meanwhile_by_another_reviewer_is_a_conflict_not_overwritten(server, browser):  # noqa: F811
    """Issue 16's sequence: A opens the queue; B marks item 2 off-topic; A confirms item 1; A moves item 2: refused
    with B's name and change, B's correction stands; A can still undo its own confirm, and reloads."""
    db, run, base = server
    page = open_queue(browser, base, run, DESKTOP)
    items = page.locator("article.item")
    seen = int(page.locator("#queue").get_attribute("data-version"))
    unit1, unit2 = items.nth(0).get_attribute("data-unit"), items.nth(1).get_attribute("data-unit")
    correct(db, run, "bob", "off_topic", seen=seen, unit=unit2)  # B, meanwhile

    press(page, items.nth(0).locator("button.confirm"))
    expect(page.locator("#status")).to_contain_text(f"Idée 1 thème gardé (version {seen + 2})")
    press(page, items.nth(1).locator('button[data-key="2"]'))
    conflict = page.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text(
        f"Votre vue (version {seen}) n'est plus à jour : bob a marqué hors sujet l'idée {unit2} à"
    )
    expect(conflict.locator("button")).to_have_text("Recharger")
    expect(items.nth(1)).to_be_visible()  # still on item 2: nothing was saved
    state = load_state(db, run)
    assert unit2 in state.off_topic and state.labels[unit2] == [] and state.version == seen + 2

    press(page, page.locator("#undo"))  # A's own confirm, although the run moved on since A's view
    expect(items.nth(0)).to_be_visible()
    assert unit1 not in load_state(db, run).reviewed
    press(page, conflict.locator("button"))
    expect(page.locator("#queue")).to_have_attribute("data-version", str(seen + 3))
    expect(page.locator("#conflict")).to_be_hidden()
    assert unit2 not in {i.get_attribute("data-unit") for i in page.locator("article.item").all()}
