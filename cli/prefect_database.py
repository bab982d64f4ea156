"""A new Prefect home's database, copied from one migrated at install time instead of built by the server.

A Prefect server on a home with no database first runs every Alembic migration of its SQLite database: 9.0 to
10.1 s before it answered, against 3.3 s with the database already there (this 2-core machine). ``make`` builds
the migrated database once, next to this virtual environment's Prefect (``python -m cli.prefect_database``); a
server started on a home without a database gets a copy and answered after 4.0 to 4.6 s. 10,000 answers on a new
home: 69.6 and 71.2 s with the copy, 75.9 and 79.2 s without (the migrations' CPU competed with the cleaning).
The sample's first run did not move (17.6 s against 18.0 s): its server starts while it reads and loads models.
The copy is the empty database the migrations would have built: Prefect registers its block types either way.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import tempfile
from contextlib import closing, suppress
from pathlib import Path

SQLITE_PREFIX = "sqlite+aiosqlite:///"


def template_path() -> Path:
    """The migrated database for this environment's Prefect version (a new version needs its own)."""
    from importlib.metadata import version

    return Path(sys.prefix) / "share" / "verbatims" / f"prefect-{version('prefect')}.db"


def database_file() -> Path | None:
    """The SQLite file the server will use, or None when it uses another database (PostgreSQL, in memory)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().server.database.connection_url
    url = url.get_secret_value() if url is not None else ""
    if not url.startswith(SQLITE_PREFIX) or "memory" in url or "?" in url:
        return None
    return Path(url.removeprefix(SQLITE_PREFIX)).expanduser()


def seed_database() -> bool:
    """Copy the template to the server's SQLite file when it has none yet; whether it did."""
    template, target = template_path(), database_file()
    if target is None or target.exists() or not template.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".prefect-", suffix=".db", delete=False) as copy:
        copy.write(template.read_bytes())
    try:
        os.link(copy.name, target)  # never over a database that appeared meanwhile (another Prefect process)
    except FileExistsError:
        return False
    finally:
        os.unlink(copy.name)
    return True


def build_template() -> Path:
    """Run Prefect's migrations on an empty database in a scratch home and keep it, as one file, as the template."""
    from prefect.server.database import provide_database_interface
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, PREFECT_HOME, temporary_settings

    template = template_path()
    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "prefect.db"
        with temporary_settings({PREFECT_HOME: scratch, PREFECT_API_DATABASE_CONNECTION_URL: SQLITE_PREFIX + str(database)}):
            asyncio.run(provide_database_interface().create_db())  # as the server's start-up runs them
        built = template.with_suffix(".new")
        with suppress(FileNotFoundError):
            built.unlink()
        with closing(sqlite3.connect(database)) as connection:  # one file, write-ahead log folded in
            connection.execute("VACUUM INTO ?", (str(built),))
        built.replace(template)
    return template


if __name__ == "__main__":
    print(build_template())
