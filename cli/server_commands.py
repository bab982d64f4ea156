"""``verbatims serve`` (the web page) and ``verbatims serve-flows`` (Prefect's scheduled deployments)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.common import open_store
from cli.options import Db
from cli.prefect_database import seed_database
from cli.prefect_server import wait_for_api
from pipeline import settings
from pipeline.messages import say


def serve(
    port: Annotated[int, typer.Option("--port", help="Port sur localhost.")] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Adresse d'écoute (gardez localhost, sauf derrière un proxy).")
    ] = "127.0.0.1",
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="La page est servie derrière un proxy TLS : cookies de session « Secure » (par défaut : VERBATIMS_HTTPS).",
        ),
    ] = False,
    db: Db = None,
) -> None:
    """Lancer la page web des correcteurs et des rédacteurs de rapports sur localhost (ajoutez des utilisateurs avec
    `verbatims users add`)."""
    import uvicorn

    from web.app import create_app

    if https:
        settings.configure(https=True)
    store = open_store()
    app = create_app(store)  # refuses a VERBATIMS_SECRET too short, before anything listens
    # before it listens, so that the first page answers at once (bench/first_page.py): the address is shown once
    # the server answers quickly, rather than a page that hangs for the language models
    typer.echo(say("cli.loading"))
    app.state.web.ranked.warm_up()
    typer.echo(say("cli.serving", host=host, port=port, db=store.shown_url))
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve_flows(
    port: Annotated[int, typer.Option("--port", help="Port du serveur Prefect local et de son interface.")] = 4200,
) -> None:
    """Lancer un serveur Prefect local et les déploiements planifiés : l'analyse mensuelle, la nouvelle vague, le
    réentraînement, et le dossier surveillé data/verbatims/incoming/.

    Leurs exécutions et leurs plannings s'affichent dans l'interface de Prefect. Si PREFECT_API_URL est définie,
    ce serveur-là est utilisé au lieu d'en lancer un."""
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
            seed_database()
            prefect = str(Path(sys.executable).with_name("prefect"))
            command = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env))
            wait_for_api(env["PREFECT_API_URL"], processes[0].poll)
        typer.echo(say("cli.prefect_ui", url=env["PREFECT_API_URL"].removesuffix("/api")))
        processes.append(subprocess.Popen([sys.executable, "-m", "flows.deployments"], env=env))
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
