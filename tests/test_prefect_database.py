"""A new Prefect home gets the database migrated at install time (cli/prefect_database.py), never over one it has."""

import sqlite3
from pathlib import Path

import prefect.server.database
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL, PREFECT_HOME, temporary_settings

from cli.prefect_database import database_file, seed_database, template_path

MIGRATIONS = Path(prefect.server.database.__file__).parent / "_migrations" / "versions" / "sqlite"


def _revision(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_the_install_built_the_template_at_prefects_last_migration():
    """``make`` builds it; without it every new home's server would run the migrations again."""
    config = Config()
    config.set_main_option("script_location", "prefect:server:database:_migrations")
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS))
    assert template_path().is_file(), "make did not build the Prefect database template"
    assert _revision(template_path()) == ScriptDirectory.from_config(config).get_current_head()


def test_a_new_home_gets_a_copy_and_a_home_with_a_database_keeps_it(tmp_path):
    with temporary_settings({PREFECT_HOME: tmp_path / "home"}):
        target = database_file()
        assert target == tmp_path / "home" / "prefect.db"
        assert seed_database()
        assert target.read_bytes() == template_path().read_bytes()
        with sqlite3.connect(target) as connection:  # the home's own runs from now on
            connection.execute("CREATE TABLE ours (x)")
        assert not seed_database()
        with sqlite3.connect(target) as connection:
            assert connection.execute("SELECT name FROM sqlite_master WHERE name = 'ours'").fetchone()
        assert [p.name for p in target.parent.iterdir()] == ["prefect.db"]  # no copy left behind


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://user:secret@localhost/prefect", "sqlite+aiosqlite:///file::memory:?cache=shared&uri=true"],
)
def test_a_server_database_elsewhere_is_left_to_prefect(tmp_path, url):
    with temporary_settings({PREFECT_HOME: tmp_path, PREFECT_API_DATABASE_CONNECTION_URL: url}):
        assert database_file() is None
        assert not seed_database()
    assert list(tmp_path.iterdir()) == []
