"""``verbatims serve`` (the web page) and ``verbatims serve-flows`` (Prefect's scheduled deployments)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.common import open_store
from cli.options import Db
from cli.prefect_server import wait_for_api


def serve(
    port: Annotated[int, typer.Option("--port", help="Port on localhost.")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (keep localhost unless behind a proxy).")
    ] = "127.0.0.1",
    db: Db = None,
) -> None:
    """Start the web page for reviewers and report writers on localhost (add users with `verbatims users add`)."""
    import uvicorn

    from web.app import create_app

    store = open_store()
    app = create_app(store)
    # before it listens, so that the first page answers at once (bench/first_page.py): the address is shown once
    # the server answers quickly, rather than a page that hangs for the language models
    typer.echo("Chargement des modèles de langue et classement du dernier run…")
    app.state.web.ranked.warm_up()
    typer.echo(f"Page web de verbatims : http://{host}:{port}/  (base {store.shown_url} ; Ctrl-C pour arrêter)")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve_flows(
    port: Annotated[int, typer.Option("--port", help="Port of the local Prefect server and its UI.")] = 4200,
) -> None:
    """Start a local Prefect server and serve the scheduled deployments: the monthly analysis, new wave and
    retraining, and the watched folder data/verbatims/incoming/. Their runs and schedules show in the
    Prefect UI. With PREFECT_API_URL set, that server is used instead of starting one."""
    import signal
    import subprocess
    import sys

    # Ctrl-C, or a service manager's stop (SIGTERM), stops the server and the deployments started here. Set
    # explicitly: a shell script that starts this in the background hands it SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    env = dict(os.environ)  # Prefect's own variables, handed on to the server and the deployments
    processes = []
    try:
        if not env.get("PREFECT_API_URL"):
            env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
            prefect = str(Path(sys.executable).with_name("prefect"))
            command = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env))
            wait_for_api(env["PREFECT_API_URL"], processes[0])
        typer.echo(f"Interface Prefect : {env['PREFECT_API_URL'].removesuffix('/api')}  (Deployments ; Ctrl-C pour arrêter)")
        processes.append(subprocess.Popen([sys.executable, "-m", "flows.deployments"], env=env))
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
