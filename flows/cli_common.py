"""What every ``verbatims`` command shares: one-line errors and the review store."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: object) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def open_store(db: str | None = None):
    from pipeline.errors import InputError
    from pipeline.store import Store

    try:
        return Store(db)
    except InputError as exc:
        fail(exc)
