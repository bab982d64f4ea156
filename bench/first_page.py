"""The first pages after `verbatims serve` starts (issue 17: the first run page took 21.9 s, later ones 0.1 to
0.9 s): how long the server takes until it accepts connections, then the first GET of the runs page `/` and of
the run page `/runs/RUN` after signing in, and the same pages again.

The sample (data/verbatims/panorama_culture_client_2025.csv and its codebook) is analysed by the real command
into a fresh scratch store and cache; the server is the real command in a subprocess on a free port.

    .venv/bin/python bench/first_page.py [--built DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results_file import publish  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "verbatims"
SAMPLE = DATA / "panorama_culture_client_2025.csv"
CODEBOOK = DATA / "panorama_culture_client_2025.codebook.yaml"
VERBATIMS = str(Path(sys.executable).with_name("verbatims"))
PASSWORD = "first page bench"
# The previous code path: uvicorn on create_app as `serve` ran it before its warm-up (commit 0ab5824)
COLD = (
    "import sys, uvicorn; from review.store import Store; from web.app import create_app; "
    "uvicorn.run(create_app(Store(sys.argv[1])), port=int(sys.argv[2]), log_level='warning')"
)


def environment(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VERBATIMS_CACHE": str(folder / "cache"),
        "VERBATIMS_DB": str(folder / "store.sqlite"),
        "VERBATIMS_PASSWORD": PASSWORD,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def build(folder: Path) -> None:
    """The sample recorded by `verbatims analyze`, and an admin to sign in with."""
    env = environment(folder)
    command = [VERBATIMS, "analyze", str(SAMPLE), "--codebook", str(CODEBOOK), "--out", str(folder / "out")]
    subprocess.run(command, check=True, capture_output=True, env=env)
    subprocess.run([VERBATIMS, "users", "add", "bench", "--role", "admin"], check=True, capture_output=True, env=env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_accepting(port: int, server: subprocess.Popen) -> None:
    while server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server stopped: {server.stderr.read() if server.stderr else ''}")


def timed_get(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    response.raise_for_status()
    return time.perf_counter() - start


def measure(folder: Path, warm: bool) -> dict[str, float]:
    """Seconds until the server accepts, then of each first and second GET after signing in: `verbatims serve`
    (``warm``) or the previous code path, uvicorn on ``create_app`` without the warm-up."""
    from review.store import Store

    run_id = Store(str(folder / "store.sqlite")).latest_run_id()
    port = free_port()
    if warm:
        command = [VERBATIMS, "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-c", COLD, str(folder / "store.sqlite"), str(port)]
    start = time.perf_counter()
    server = subprocess.Popen(command, env=environment(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_accepting(port, server)
        times = {"accepts": time.perf_counter() - start}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            form = {"username": "bench", "password": PASSWORD, "csrf_token": token, "next": "/"}
            assert client.post("/login", data=form).status_code == 303
            for visit in ("first", "again"):
                times[f"{visit} /"] = timed_get(client, "/")
                times[f"{visit} /runs/RUN"] = timed_get(client, f"/runs/{run_id}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--built", type=Path, help="a folder where the sample was built before: reuse it")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.built or Path(tmp)
        if not (folder / "store.sqlite").exists():
            build(folder)
        before, times = measure(folder, warm=False), measure(folder, warm=True)
    load = os.getloadavg()[0]
    rows = [
        f"| server accepts connections | {before['accepts']:.2f} | {times['accepts']:.2f} |",
        f"| first `/` after signing in | {before['first /']:.2f} | {times['first /']:.2f} |",
        f"| first `/runs/RUN` | {before['first /runs/RUN']:.2f} | {times['first /runs/RUN']:.2f} |",
        f"| `/` again | {before['again /']:.2f} | {times['again /']:.2f} |",
        f"| `/runs/RUN` again | {before['again /runs/RUN']:.2f} | {times['again /runs/RUN']:.2f} |",
    ]
    body = "\n".join(
        [
            "## First page after start (`bench/first_page.py`)",
            "",
            "`verbatims serve` on a fresh store holding the sample run (data/verbatims/panorama_culture_client_2025.csv "
            "analysed with its codebook), started in a subprocess; seconds from its start until it accepts "
            "connections, then of each GET after signing in. `serve` now ranks the latest run before it listens "
            "(`RankedRuns.warm_up`: spaCy's French model, BERTopic and the lemma vocabulary load then), so the "
            "first run page no longer waits for them; the server takes that much longer to accept instead. Before: "
            "the previous code path (uvicorn on `create_app` without the warm-up, as `serve` ran it at 0ab5824), "
            "measured first on the same store (issue 17 saw 21.9 s for that first run page). "
            f"{os.cpu_count()} cores shared with other work, load average {load:.1f} at the end.",
            "",
            "| step | before, s | now, s |",
            "|---|---:|---:|",
            *rows,
        ]
    )
    publish("first_page", body, write=not args.no_write)


if __name__ == "__main__":
    main()
