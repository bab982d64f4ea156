"""What every ``verbatims`` command shares: one-line errors and the review store."""

from __future__ import annotations

import gc
from typing import NoReturn

import typer


def fail(message: object) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def skip_final_collection() -> None:
    """Called when a command's work is done: torch and transformers (imported through BERTopic) leave so many
    objects that the interpreter's last garbage collection took 2 to 3 s after the results were printed.
    Frozen objects are left to the operating system; files and the store are already closed."""
    gc.freeze()


def open_store(db: str | None = None):
    from pipeline.errors import InputError
    from review.store import Store

    try:
        return Store(db)
    except InputError as exc:
        fail(exc)
