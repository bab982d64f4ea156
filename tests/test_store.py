"""The review store on real SQLite and PostgreSQL: migrations, recording a run, clear errors."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import record_sample  # the module pytest loaded: as tests.conftest it would run again
from sqlalchemy import func, select

from pipeline.errors import InputError, UnavailableError
from review.store import (
    MIGRATIONS,
    SCHEMA_HEAD,
    AssignmentRow,
    Base,
    RespondentRow,
    Run,
    Store,
    UnitRow,
    database_url,
    text_key,
)


def test_migrations_build_exactly_the_models_schema(store):
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_head_a_store_is_checked_against_is_the_migrations_head(store):
    """A store at ``SCHEMA_HEAD`` is opened without Alembic: a migration added without moving it would never run."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == SCHEMA_HEAD


def test_opening_twice_keeps_the_data(store, recorded_run):
    _, run_id = recorded_run
    again = Store(store.url)  # migrations run again: a no-op at head
    with again.session() as session:
        assert session.scalar(select(func.count()).select_from(UnitRow).where(UnitRow.run_id == run_id)) > 250


def test_a_recorded_run_holds_every_unit_respondent_and_assignment(recorded_run, sample_clean, sample_dataset):
    store, run_id = recorded_run
    with store.session() as session:
        units = session.scalar(select(func.count()).select_from(UnitRow))
        respondents = session.scalar(select(func.count()).select_from(RespondentRow))
        assigned = session.scalar(select(func.count(func.distinct(AssignmentRow.unit_id))))
        runner_ups = session.scalar(select(func.count()).where(AssignmentRow.runner_up_id.is_not(None)))
    assert units == len(sample_clean.units)
    assert respondents == len({r.respondent_id for r in sample_dataset.responses})
    assert assigned == units
    assert runner_ups >= 0.9 * units  # the queue needs the runner-up theme of almost every unit


def test_a_run_whose_files_fail_before_its_commit_leaves_nothing_in_the_store(
    store, sample_dataset, sample_clean, sample_clustered, tmp_path
):
    """``analyze`` commits a run once its files are written (``before_commit``): a workbook that fails then
    leaves no run to review without files."""

    def files_failed():
        raise OSError("disque plein")

    with pytest.raises(OSError, match="disque plein"):
        record_sample(
            store, "run-sans-fichiers", sample_dataset, sample_clean, sample_clustered, "Q ?", tmp_path, (), files_failed
        )
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
        assert session.scalar(select(func.count()).select_from(UnitRow)) == 0


def test_unknown_run_names_the_latest_ones(recorded_run):
    store, run_id = recorded_run
    with pytest.raises(InputError, match=f"inconnue « nope » ; dernières analyses : .*{run_id}"), store.session() as session:
        store.run(session, "nope")


def test_unreachable_database_is_one_clear_error():
    with pytest.raises(
        UnavailableError, match="la base de revue postgresql.* indisponible .*connexion impossible"
    ) as caught:
        Store("postgresql://someone:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value) and "SQL" not in str(caught.value)


def test_database_url_forms(tmp_path):
    assert database_url(str(tmp_path / "x.sqlite")) == f"sqlite:///{tmp_path / 'x.sqlite'}"
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_text_key_ignores_case_accents_and_spacing():
    assert text_key("Plus de  MOYENS humains") == text_key("plus de moyens humains")
    assert text_key("Élan") == text_key("elan")
    assert text_key("plus de moyens") != text_key("plus de temps")
