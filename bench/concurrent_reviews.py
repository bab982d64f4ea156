"""Twenty reviewers correcting one run at once through the API: is every write applied or refused, none lost?

The sample (data/verbatims/panorama_culture_client_2025.csv) is analysed once and recorded in a scratch review
store (SQLite, and PostgreSQL with ``--postgres URL``); 20 reviewer accounts are added and the real server
(``verbatims serve --db …``) is started in its own process on a free loopback port. 20 client threads each sign
in once through the login form, then until the time is up: read the run's version (``GET /api/runs/{id}``), its
themes and the units of one theme, and send one correction (move, confirm, off_topic or rename) with ``seen`` =
the version read. Bounded: each client waits for its answer and pauses 50 to 250 ms between writes; units are
drawn from the first units of each theme only, so that reviewers collide on the same items and the stale-view
check has work to do.

Then, from the store: every answer must be 200 (applied) or 409 (stale view); the events in the log must be
exactly the writes acknowledged (same sequence numbers, reviewers, actions, payloads: none lost, none doubled);
the log replayed one event at a time from the state before the load must equal ``load_state`` (themes, labels,
memberships, version), and each event's ``after`` snapshot, taken under load, must equal the replay at that
event (no write applied to a state another write had already changed).

    .venv/bin/python bench/concurrent_reviews.py [--seconds 60] [--reviewers 20] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import copy
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402
from pipeline.analysis import Analysed, Analysis  # noqa: E402
from review.actions import RunState, action_named  # noqa: E402
from review.corrections import history, load_state  # noqa: E402
from review.runs import RunRecord, record_run  # noqa: E402
from review.store import EventRow, Store  # noqa: E402
from review.users import add_user  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "verbatims" / "panorama_culture_client_2025.csv"
HOT_UNITS = 4  # units per theme the reviewers pick from: few enough that they often touch the same ones
ACTIONS = {"move": 0.35, "confirm": 0.3, "rename": 0.25, "off_topic": 0.1}
PAUSE = (0.05, 0.25)  # seconds between one client's writes
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Write:
    """One correction sent and its answer."""

    reviewer: str
    action: str
    status: int
    seconds: float
    seen: int
    item: str  # what it touches, as the log names it ("unit:R12", "theme:t-3")
    message: str = ""
    event: dict = field(default_factory=dict)  # the API's answer when applied: event (seq), action, payload


@dataclass
class Outcome:
    """What one store's load check found."""

    store: str
    reviewers: int
    seconds: float
    writes: list[Write]
    failed_reads: list[str]
    events: list[EventRow]
    log_matches: bool
    doubled: int
    replay_equal: bool
    snapshots_differing: int

    @property
    def applied(self) -> list[Write]:
        return [w for w in self.writes if w.status == 200]

    @property
    def others(self) -> list[Write]:
        return [w for w in self.writes if w.status not in (200, 409)]

    def changed_since_seen(self, write: Write) -> EventRow | None:
        """The last event after the version a write was made on that touched its item: why it was refused."""
        return next((e for e in reversed(self.events) if e.seq > write.seen and write.item in e.touched), None)


# -- the run and the server ---------------------------------------------------------------------------------------


def analyse_sample() -> tuple[Analysis, Analysed]:
    analysis = Analysis()
    return analysis, analysis.run(analysis.ingest(SAMPLE))


def record(store: Store, analysis: Analysis, analysed: Analysed, run_id: str, out: Path) -> None:
    manifest = analysis.manifest(run_id, SAMPLE, analysed, None, {})
    dataset, cleaned, clustered = analysed.dataset, analysed.cleaned, analysed.clustered
    record_run(store, RunRecord(manifest, dataset, cleaned, clustered, analysis.embedder, out, themes=analysed.themes))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(url: str, log: Path) -> Iterator[str]:
    """``verbatims serve`` on the store, in its own process (its own interpreter: the clients' threads do not share
    its GIL), for as long as the block runs: its base URL once it answers."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("verbatims")), "serve", "--db", url, "--port", str(port)]
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # it ranks the run before it listens (spaCy, the embedder)
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(30)


# -- the reviewers ------------------------------------------------------------------------------------------------


class Reviewer(threading.Thread):
    """One reviewer's browser session: signs in once, then reads and corrects until ``until``."""

    def __init__(self, base: str, run_id: str, username: str, password: str, until: float, seed: int):
        super().__init__(name=username)
        self.base, self.run_id, self.username, self.password, self.until = base, run_id, username, password, until
        self.random = random.Random(seed)
        self.writes: list[Write] = []
        self.failed_reads: list[str] = []
        self.renamed = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            token = self.sign_in(client)
            if token is None:
                return
            while time.monotonic() < self.until:
                self.write_once(client, token)
                time.sleep(self.random.uniform(*PAUSE))

    def sign_in(self, client: httpx.Client) -> str | None:
        """The login form as a browser sends it; then the session's CSRF token (rotated at sign-in) for the API."""
        form = CSRF.search(client.get("/login").text)
        answer = client.post(
            "/login",
            data={"username": self.username, "password": self.password, "csrf_token": form.group(1) if form else ""},
        )
        if answer.status_code != 303:
            self.failed_reads.append(f"POST /login {answer.status_code}")
            return None
        return CSRF.search(client.get("/login").text).group(1)

    def read(self, client: httpx.Client, path: str):
        answer = client.get(path)
        if answer.status_code != 200:
            self.failed_reads.append(f"GET {path} {answer.status_code}")
            return None
        return answer.json()

    def write_once(self, client: httpx.Client, token: str) -> None:
        api = f"/api/runs/{self.run_id}"
        run = self.read(client, api)  # the version first: what is read after it is at least as new
        themes = run and self.read(client, f"{api}/themes")
        if not themes:
            return
        theme = self.random.choice(themes)
        units = self.read(client, f"{api}/themes/{theme['theme_id']}/units")
        if units is None:
            return
        body = self.correction(theme, themes, units[:HOT_UNITS])
        if body is None:
            return
        body["seen"] = run["version"]
        started = time.perf_counter()
        answer = client.post(f"{api}/corrections", json=body, headers={"X-CSRF-Token": token})
        seconds = time.perf_counter() - started
        reply = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
        item = f"theme:{body['theme']}" if body["action"] == "rename" else f"unit:{body['unit']}"
        write = Write(self.username, body["action"], answer.status_code, seconds, run["version"], item)
        if answer.status_code == 200:
            write.event = reply
        else:
            write.message = str(reply.get("detail", answer.text[:200]))
        self.writes.append(write)

    def correction(self, theme: dict, themes: list[dict], units: list[dict]) -> dict | None:
        """A correction that is valid on what was read: the only reason to refuse it is another reviewer's."""
        action = self.random.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        if action == "rename" or not units:
            self.renamed += 1
            label = f"{theme['label'].split(' · ')[0]} · {self.username} {self.renamed}"
            return {"action": "rename", "theme": theme["theme_id"], "label": label}
        unit = self.random.choice(units)
        if action == "move":
            targets = [t["theme_id"] for t in themes if t["theme_id"] not in unit["themes"]]
            if not targets:
                return None
            return {"action": "move", "unit": unit["unit_id"], "from": theme["theme_id"], "to": self.random.choice(targets)}
        return {"action": action, "unit": unit["unit_id"]}


# -- the checks ---------------------------------------------------------------------------------------------------


def replay(start: RunState, events: list[EventRow]) -> tuple[RunState, int]:
    """The log applied one event at a time to the state before the load (no undo is sent, so none is skipped);
    with how many events' ``after`` snapshot, taken when the write was applied, differs from the replay there."""
    state, differing = copy.deepcopy(start), 0
    for e in events:
        action_named(e.action).apply(state, e.payload)
        state.version = e.seq
        differing += state.snapshot(list(e.touched)) != e.after
    return state, differing


def load_check(label: str, url: str, analysis: Analysis, analysed: Analysed, args, scratch: Path) -> Outcome:
    store = Store(url)
    run_id = f"charge-{secrets.token_hex(3)}"
    record(store, analysis, analysed, run_id, scratch / run_id)
    before = load_state(store, run_id)
    accounts = {f"relecteur{i:02d}": secrets.token_urlsafe(18) for i in range(args.reviewers)}
    for username, password in accounts.items():
        add_user(store, username, password, "reviewer")
    with serving(url, scratch / f"serve-{label}.log") as base:
        until = time.monotonic() + args.seconds
        reviewers = [
            Reviewer(base, run_id, username, password, until, seed)
            for seed, (username, password) in enumerate(accounts.items())
        ]
        started = time.monotonic()
        for reviewer in reviewers:
            reviewer.start()
        for reviewer in reviewers:
            reviewer.join()
        elapsed = time.monotonic() - started
    writes = [w for r in reviewers for w in r.writes]
    events = history(store, run_id)
    acknowledged = [(w.event["event"], w.reviewer, w.event["action"], w.event["payload"]) for w in writes if w.status == 200]
    logged = [(e.seq, e.reviewer, e.action, e.payload) for e in events]
    replayed, differing = replay(before, events)
    return Outcome(
        store=label,
        reviewers=args.reviewers,
        seconds=elapsed,
        writes=writes,
        failed_reads=[f"{r.username}: {failure}" for r in reviewers for failure in r.failed_reads],
        events=events,
        log_matches=sorted(acknowledged, key=lambda a: a[0]) == logged,  # as many events as applied writes, the same ones
        doubled=len(acknowledged) - len({seq for seq, *_ in acknowledged}),
        replay_equal=replayed == load_state(store, run_id),
        snapshots_differing=differing,
    )


# -- the report ---------------------------------------------------------------------------------------------------


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def why(o: Outcome, write: Write) -> str:
    changed = o.changed_since_seen(write)
    if changed is None:
        return f"nothing touched {write.item} after version {write.seen}"
    return f"event {changed.seq} ({changed.reviewer}, {changed.action}) touched {write.item} after version {write.seen}"


def report(outcomes: list[Outcome], command: str) -> str:
    lines = [
        f"## concurrent_reviews — `{command}`",
        "",
        "Reviewer sessions signed in through the login form, correcting one recorded run (the sample) through "
        "`POST /api/runs/{id}/corrections` with `seen`, against `verbatims serve` in its own process on 127.0.0.1. "
        f"Each client waits for its answer and pauses {PAUSE[0] * 1000:.0f}–{PAUSE[1] * 1000:.0f} ms; units are drawn "
        f"from the first {HOT_UNITS} of each theme so that reviewers collide. Latency is the correction's POST alone. "
        '"Other" counts answers neither 200 nor 409, in brackets those whose item another write changed after `seen`; '
        '"behind": for applied writes, how many other writes were applied between the version read and this one.',
        "",
        "| store | reviewers | s | writes tried | applied | 409 | other (stale) | writes/s | p50 ms | p95 ms "
        "| behind p50/p95 | events in log | log = acknowledged writes | doubled | replay = load_state | `after` ≠ replay "
        "| failed reads |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        latency = np.array([w.seconds for w in o.writes]) * 1000 if o.writes else np.zeros(1)
        conflicts = sum(w.status == 409 for w in o.writes)
        stale = sum(o.changed_since_seen(w) is not None for w in o.others)
        behind = np.array([w.event["event"] - 1 - w.seen for w in o.applied] or [0])
        lines.append(
            f"| {o.store} | {o.reviewers} | {o.seconds:.0f} | {len(o.writes)} | {len(o.applied)} | {conflicts} "
            f"| {len(o.others)} ({stale}) | {len(o.writes) / o.seconds:.1f} | {np.percentile(latency, 50):.0f} "
            f"| {np.percentile(latency, 95):.0f} | {np.percentile(behind, 50):.0f}/{np.percentile(behind, 95):.0f} "
            f"| {len(o.events)} | {yes(o.log_matches)} | {o.doubled} "
            f"| {yes(o.replay_equal)} | {o.snapshots_differing} | {len(o.failed_reads)} |"
        )
    for o in outcomes:
        mix = Counter(f"{w.action} {w.status}" for w in o.writes)
        lines += ["", f"{o.store}: answers by action: " + ", ".join(f"{k} × {n}" for k, n in sorted(mix.items()))]
        lines += [
            f"- other: {w.status} on {w.action} by {w.reviewer}: {w.message[:120]} — {why(o, w)}" for w in o.others[:10]
        ]
        lines += [f"- failed read: {failure}" for failure in o.failed_reads[:10]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--postgres", help="also run against this (scratch) PostgreSQL database URL")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = "python bench/concurrent_reviews.py " + " ".join(a for a in sys.argv[1:] if a != "--no-write")
    analysis, analysed = analyse_sample()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="verbatims-load-") as scratch:
        stores = [("SQLite", str(Path(scratch) / "review.sqlite"))]
        if args.postgres:
            stores.append(("PostgreSQL", args.postgres))
        for label, url in stores:
            outcomes.append(load_check(label, url, analysis, analysed, args, Path(scratch)))
    if args.postgres:  # the URL may hold a password: the heading names the option, not its value
        command = command.replace(args.postgres, "URL")
    publish("concurrent_reviews", report(outcomes, command.strip()), not args.no_write)
    failed = any(o.others or not o.log_matches or not o.replay_equal or o.snapshots_differing for o in outcomes)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
