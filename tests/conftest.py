"""Tests use the real spaCy model, the real USE embedder and a real Prefect (test harness).

Caches and Prefect's home go to a temporary folder so tests never read a developer's state.
"""

import os
import tempfile
from pathlib import Path

_STATE = Path(tempfile.mkdtemp(prefix="verbatims-tests-"))
os.environ["VERBATIMS_CACHE"] = str(_STATE / "cache")
os.environ["PREFECT_HOME"] = str(_STATE / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"  # flows started by the web tests, on slow CI
os.environ["VERBATIMS_DB"] = str(_STATE / "verbatims.sqlite")
os.environ["VERBATIMS_PREFECT_IDLE"] = "0"  # each command's Prefect server ends with it: none outlives the session
os.environ["VERBATIMS_ENGINE_IDLE"] = "0"  # no resident engine, but in tests/test_resident_engine.py
os.environ["VERBATIMS_MODELS"] = str(_STATE / "models")

import copy  # noqa: E402
import inspect  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from pipeline.clean import clean  # noqa: E402
from pipeline.codebook import codebook_seeds, load_codebook  # noqa: E402
from pipeline.embed import embed, load_embedder  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "verbatims"
SAMPLE = DATA / "panorama_culture_client_2025.csv"
CODEBOOK = DATA / "panorama_culture_client_2025.codebook.yaml"
GOLD = DATA / "panorama_culture_client_2025.gold.csv"

# `make test-fast` runs `pytest -m "not slow"`: everything but the tests below, marked `slow` here so the test
# files need not say it. Slow: they start a Prefect flow or server, a browser, a PostgreSQL server, run the
# `verbatims` command end to end, or take more than a couple of seconds (measured with `--durations=0`).
SLOW_MODULES = {
    "test_orchestration",  # Prefect flows, servers, Dask, `verbatims serve-flows`
    "test_flow_cli",  # the `verbatims` command end to end, with its own Prefect server
    "test_web_e2e",  # a browser against a served page
    "test_theme_page",  # a browser against a served page
    "test_agreement_page",  # a browser against the double coding and agreement pages
    "test_queue_page",  # the review queue in a browser
    "test_phone_layout",  # every page in a browser at 390×844
    "test_prefect_server_dies",  # starts a Prefect server and kills its parent
    "test_warm_path",  # `verbatims analyze` three times end to end
    "test_resident_engine",  # `verbatims analyze` served by the resident engine
}
SLOW_FIXTURES = {
    "postgres_url",  # a PostgreSQL server
    "analysed_waves",  # tests/security/test_erasure.py: `verbatims analyze` twice end to end
}
SLOW_TESTS = {  # module::test name (without parameters): each trains a model (tens of seconds)
    "test_retrain::test_first_model_is_trained_scored_and_promoted",
    "test_retrain::test_retraining_on_the_same_reviews_is_not_worse_and_is_promoted",
    "test_retrain::test_the_previous_model_is_judged_on_reviews_it_never_saw",
    "test_retrain::test_promote_and_rollback_go_back_step_by_step",
    "test_retrain::test_next_wave_keeps_known_themes_and_proposes_new_ones",
    "test_web::test_admin_retrains_from_the_page_and_sees_the_outcome",  # and runs a Prefect flow
    "test_web::test_admin_manages_users_and_promotes_models",
    "test_web::test_admin_applies_the_model_to_a_new_wave_from_the_page",  # and runs a Prefect flow
    "test_erasure::test_a_classify_job_that_fails_deletes_its_upload",  # runs a Prefect flow
}


def _is_slow(item: pytest.Item) -> bool:
    module = item.path.stem
    name = getattr(item, "originalname", item.name)
    params = getattr(getattr(item, "callspec", None), "params", {})
    return (
        module in SLOW_MODULES
        or f"{module}::{name}" in SLOW_TESTS
        or bool(SLOW_FIXTURES & set(getattr(item, "fixturenames", ())))
        or params.get("store") == "postgresql"  # the `store` fixture asks for `postgres_url` only then
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def _stop_prefect_servers():
    """Stop the temporary Prefect servers that flows started in this process while pytest still captures output.

    Prefect stops them at exit (atexit) and logs "Stopping temporary server" to a stream pytest has closed by
    then: a "--- Logging error ---" traceback after the results. Stopped here, the message goes where every
    log of the session goes, and Prefect's atexit call finds nothing left to stop. As `prefect_test_harness`
    does, the logs and events still queued for the server are sent first ("--- Error logging to API ---").
    """
    yield
    server = sys.modules.get("prefect.server.api.server")  # not imported: no flow ran, no server to stop
    if server is None or not server.SubprocessASGIServer._instances:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:  # as prefect.testing.utilities.prefect_test_harness does
        try:
            drained = APILogWorker.instance().drain()
            if inspect.isawaitable(drained):
                await drained
        except RuntimeError:  # the worker never started
            pass
        drained = EventsWorker.drain_all()
        if inspect.isawaitable(drained):
            await drained

    run_coro_as_sync(drain())
    for instance in list(server.SubprocessASGIServer._instances.values()):
        instance.stop()


@pytest.fixture(scope="session")
def sample_dataset():
    return ingest(SAMPLE)


@pytest.fixture(scope="session")
def sample_clean(sample_dataset):
    return clean(sample_dataset)


@pytest.fixture(scope="session")
def sample_vectors(sample_clean):
    vectors, _ = embed([u.text for u in sample_clean.units], load_embedder())
    return vectors


@pytest.fixture(scope="session")
def codebook():
    return load_codebook(CODEBOOK)


@pytest.fixture(scope="session")
def seeds(codebook):
    return codebook_seeds(codebook, load_embedder())


@pytest.fixture(scope="session")
def gold():
    import pandas as pd

    frame = pd.read_csv(GOLD, dtype=str).fillna("")
    return {rid: set(themes.split("; ")) for rid, themes in zip(frame.id, frame.themes, strict=True)}


@pytest.fixture(scope="session")
def _sample_clustered_once(sample_clean, sample_vectors, codebook, seeds):
    from pipeline.themes import find_themes

    return find_themes(sample_clean.units, sample_vectors, codebook, seeds)


@pytest.fixture
def sample_clustered(_sample_clustered_once):
    """The sample's themes, a copy for each test: ranking and nets fill themes in place, and a test that nets them
    must not hand its nets to the next one (they ran in another order alone than in the whole suite)."""
    return copy.deepcopy(_sample_clustered_once)


def _postgres_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session, on a Unix socket in a temporary folder.

    Skipped, with the reason shown, only when no server can be started (.ci/run installs Debian's postgresql).
    """
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL tests skipped: no initdb found (install Debian's postgresql; .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="verbatims-pg-"))  # under /tmp: pytest's own tmp root is closed to postgres
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: the cluster belongs to the postgres user
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = "55432"

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *command], capture_output=True, text=True, timeout=120)

    init = run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
    started = (
        init.returncode == 0
        and run(
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-w",
            "-l",
            str(root / "log"),
            "-o",
            f"-p {port} -k {root} -c listen_addresses=''",
            "start",
        ).returncode
        == 0
    )
    if not started:
        pytest.skip(f"PostgreSQL tests skipped: server did not start ({(init.stderr or '').strip()[:200]})")
    created = run(str(binaries / "createdb"), "-h", str(root), "-p", port, "-U", "postgres", "verbatims_test")
    assert created.returncode == 0, created.stderr
    yield f"postgresql://postgres@/verbatims_test?host={root}&port={port}"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty review store on each real database."""
    from sqlalchemy import text

    from review.store import Store

    if request.param == "sqlite":
        yield Store(str(tmp_path / "review.sqlite"))
        return
    url = request.getfixturevalue("postgres_url")
    store = Store(url)
    yield store
    with store.engine.begin() as connection:  # the next test starts from an empty schema
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    store.engine.dispose()


def record_sample(store, run_id, dataset, cleaned, clustered, question, out_dir, themes=(), before_commit=None) -> None:
    """Record the sample's analysis as ``run_id``; ``themes``: ranked and netted, as ``analyze`` records them (else
    the clustered themes, without nets); ``before_commit`` as ``record_run`` takes it."""
    from pipeline.manifest import InputInfo, Manifest, count
    from review.runs import RunRecord, record_run

    manifest = Manifest(
        run_id=run_id,
        question=question,
        input=InputInfo(file="sample.csv", sha256=dataset.input_sha256, segment_columns=dataset.segment_columns),
        parameters={},
        counts=count(len(dataset.responses), cleaned.units, cleaned.excluded, len(clustered.themes)),
    )
    record = RunRecord(manifest, dataset, cleaned, clustered, "use-multilingual", out_dir, themes=list(themes))
    record_run(store, record, before_commit)


@pytest.fixture
def recorded_run(store, sample_dataset, sample_clean, sample_clustered, codebook, tmp_path):
    """The sample analysed and recorded: (store, run id)."""
    record_sample(store, "run-sample", sample_dataset, sample_clean, sample_clustered, codebook.question, tmp_path)
    return store, "run-sample"
