"""End to end in a real headless browser: Debian's Chromium driven by Playwright against the real server.

Set VERBATIMS_SCREENSHOTS=docs to refresh the README's screenshots from this run (run page, report; the review
queue's are test_queue_page's).
"""

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from review.corrections import load_state
from review.store import Store
from review.users import add_user
from web.app import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "e2e.sqlite"))


@pytest.fixture
def analysed_run(store, sample_dataset, sample_clean, sample_vectors, sample_clustered, codebook, tmp_path):
    """The sample as ``verbatims analyze`` records it with its codebook: coherence scored by the refiner, the
    codebook's nets named: "Leadership et sponsoring" holds several codes."""
    from pipeline.coherence import ThemeRefiner
    from pipeline.manifest import InputInfo, Manifest, count
    from review.runs import RunRecord, record_run

    refined = ThemeRefiner().refine(sample_clustered, sample_clean.units, sample_vectors)
    manifest = Manifest(
        run_id="run-sample",
        question=codebook.question,
        input=InputInfo(
            file="sample.csv", sha256=sample_dataset.input_sha256, segment_columns=sample_dataset.segment_columns
        ),
        parameters={"codebook_nets": codebook.nets},
        counts=count(len(sample_dataset.responses), sample_clean.units, sample_clean.excluded, len(refined.themes)),
    )
    record_run(store, RunRecord(manifest, sample_dataset, sample_clean, refined, "use-multilingual", tmp_path))
    return store, "run-sample"


@contextmanager
def serving(app) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port, for as long as the block runs: its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    web = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=web.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not web.started and time.time() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web.should_exit = True
        thread.join(10)


@pytest.fixture
def server(analysed_run):
    store, run = analysed_run
    add_user(store, "rita", PASSWORD, "reviewer")
    with serving(create_app(store, secret="e2e")) as base:
        yield store, run, base


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("browser tests skipped: no Chromium (install Debian's chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def share_of(page, theme_id: str) -> tuple[float, int]:
    row = page.locator(f'tr[data-theme="{theme_id}"]')
    share = float(row.locator(".share").inner_text().replace("%", "").replace(",", ".").strip())
    respondents = int(row.locator(".respondents").inner_text().strip("()"))
    return share, respondents


def check_nets(page) -> None:
    """Each net holding several codes comes first in its rows, its codes under it numbered 1.1, 1.2, with the net's
    respondents counted once: no more than its codes' sum, no fewer than its largest code's."""
    nets = page.locator("tr.net")
    assert nets.count() >= 1  # "Leadership et sponsoring" at least: the codebook names it
    for i in range(nets.count()):
        net = nets.nth(i)
        rank = net.locator("td").first.inner_text().strip()
        codes = page.locator(f'tr.code[data-net="{net.get_attribute("data-net")}"]')
        numbers = [codes.nth(j).locator("td").first.inner_text().strip() for j in range(codes.count())]
        assert numbers == [f"{rank}.{n}" for n in range(1, codes.count() + 1)] and len(numbers) >= 2
        counted = int(net.locator(".respondents").inner_text().strip("()"))
        each = [int(codes.nth(j).locator(".respondents").inner_text().strip("()")) for j in range(codes.count())]
        assert max(each) <= counted <= sum(each)
    expect(page.locator("tr.code .coherence").first).to_contain_text("cohérence ")
    expect(page.locator('tr.code[data-theme="autres"] .why')).to_have_text("Réponses qui ne relèvent d'aucun thème.")


def test_sign_in_correct_with_the_keyboard_see_the_share_change_and_export(server, browser, tmp_path):
    store, run, base = server
    shots = Path(os.environ.get("VERBATIMS_SCREENSHOTS", tmp_path))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(f"{base}/runs/{run}")
    assert page.url.startswith(f"{base}/login")  # signing in first
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/runs/{run}")
    assert page.locator("table.themes tbody tr").count() >= 8
    check_nets(page)
    page.screenshot(path=str(shots / "run-page.png"), full_page=True)

    page.click("#queue-link")
    page.wait_for_selector("article.item")
    item = page.locator("article.item").first
    unit = item.get_attribute("data-unit")
    state = load_state(store, run)
    respondent = unit.split("#")[0]
    choices = item.locator("button[data-key]")
    # a theme this respondent is not in yet, so that the move must show in its share
    key, target = next(
        (choices.nth(i).get_attribute("data-key"), choices.nth(i).get_attribute("data-to"))
        for i in range(1, choices.count())
        if choices.nth(i).get_attribute("data-to")
        and not any(u.split("#")[0] == respondent for u in state.members(choices.nth(i).get_attribute("data-to")))
    )
    page.goto(f"{base}/runs/{run}")
    before = share_of(page, target)
    page.goto(f"{base}/runs/{run}/queue")
    page.wait_for_selector("article.item")
    page.keyboard.press(key)
    expect(page.locator("#status")).to_contain_text("Idée 1 déplacée")
    assert load_state(store, run).labels[unit] == [target]

    page.goto(f"{base}/runs/{run}")
    after = share_of(page, target)
    assert after[1] == before[1] + 1 and after[0] > before[0]

    page.click("text=Annuler ma dernière correction")  # the run page's undo: the move is gone again
    expect(page.locator(".message")).to_contain_text("enregistrée : annulation")
    assert load_state(store, run).labels[unit] != [target]

    page.goto(f"{base}/runs/{run}/report")
    expect(page.locator("h3").first).to_have_text(re.compile(r"^1\.1\. "))
    top = {"x": 0, "y": 0, "width": 1280, "height": 1500}  # the ranked table and the first net: the README's view
    page.screenshot(path=str(shots / "report-page.png"), full_page=True, clip=top)
    page.pdf(path=str(tmp_path / "report.pdf"))  # printable: the print stylesheet drops the navigation
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF") and (tmp_path / "report.pdf").stat().st_size > 20_000
    page.emulate_media(media="print")
    assert not page.locator("header").is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("text=CSV")
    path = tmp_path / "themes.csv"
    download.value.save_as(path)
    assert "theme_id" in path.read_text(encoding="utf-8-sig").splitlines()[0]
