"""Issue 19: `verbatims analyze` run again on a file with a few more answers places them in the themes it found,
says so, and finds the themes again when asked (--recluster)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import CODEBOOK, SAMPLE  # the module pytest loaded: as tests.conftest it would run again

NEW_ROWS = 5  # 4 ideas (one is « N/A »): under 2 % of the sample's 286


def _analyze(
    path: Path, out: Path, cache: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess, dict]:
    """``env``: set in the command's environment beside the caches."""
    command = [str(Path(sys.executable).with_name("verbatims")), "analyze", str(path), "--codebook", str(CODEBOOK)]
    # caches of its own: no placer left by another test's run of the sample
    # Prefect's results too: this process set PREFECT_LOCAL_STORAGE_PATH to the session's cache when it imported
    # the flows, and a run served from another test's results would not have cleaned into this cache
    caches = {
        "VERBATIMS_CACHE": str(cache),
        "VERBATIMS_DB": str(cache / "store.sqlite"),
        "PREFECT_LOCAL_STORAGE_PATH": str(cache / "prefect-results"),
    }
    result = subprocess.run(
        [*command, "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **caches, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result, json.loads((out / "manifest.json").read_text())


def _themes(out: Path) -> dict[str, str]:
    frame = pd.read_csv(out / "assignments.csv", dtype=str)
    return dict(zip(frame.unit_id, frame.theme_id, strict=True))


@pytest.fixture(scope="module")
def waves(tmp_path_factory):
    """The sample without its last answers, analysed; then the whole sample, analysed after it."""
    tmp = tmp_path_factory.mktemp("waves")
    frame = pd.read_csv(SAMPLE, sep=";", dtype=str)
    first = tmp / "first.csv"
    frame.iloc[:-NEW_ROWS].to_csv(first, sep=";", index=False)
    before = _analyze(first, tmp / "out1", tmp / "cache")
    after = _analyze(SAMPLE, tmp / "out2", tmp / "cache")
    return tmp, before, after, set(frame.iloc[-NEW_ROWS:].id_repondant)


def test_the_first_run_clusters_and_says_nothing_about_it(waves):
    _, (result, manifest), _, _ = waves
    assert manifest["parameters"]["theme_path"] == {"path": "clustered"}
    assert "Thèmes repris" not in result.stdout and "regroupés à nouveau" not in result.stdout


def test_new_answers_are_placed_and_known_ones_keep_their_themes(waves):
    tmp, _, (result, manifest), new_ids = waves
    path = manifest["parameters"]["theme_path"]
    assert path["path"] == "placed" and path["gone_units"] == 0
    before, after = _themes(tmp / "out1"), _themes(tmp / "out2")
    new_units = {unit for unit in after if unit.split("#")[0] in new_ids}
    assert path["new_units"] == len(new_units) > 0
    assert {unit: after[unit] for unit in before} == before  # every known unit in the theme it had
    assert {after[unit] for unit in new_units} <= set(before.values()) | {"other"}  # no theme made up for them
    placed = f"{len(new_units)} idées nouvelles placées dans les thèmes existants (dont {path['placed_in_other']} dans"
    assert "Thèmes repris du dernier regroupement aux mêmes réglages : " + placed in result.stdout
    assert "--recluster" in result.stdout


def test_recluster_finds_the_themes_again_and_says_why(waves):
    tmp = waves[0]
    result, manifest = _analyze(SAMPLE, tmp / "out3", tmp / "cache", "--recluster")
    assert manifest["parameters"]["theme_path"] == {"path": "clustered", "reason": "demandé (--recluster)"}
    assert "Thèmes regroupés à nouveau : demandé (--recluster)." in result.stdout


def test_a_run_whose_stages_are_all_cached_imports_no_model_library(waves):
    """Nothing is computed, so nothing that computes is imported: scikit-learn alone was 0.8 s of the sample's
    4.6 s second run (issue 19); SciPy comes with it, spaCy, torch and BERTopic would be seconds more. The command
    finds the shared Prefect server up, as an analyst's next command does (a command that starts the server loads
    the models meanwhile, in case the themes are found again)."""
    tmp = waves[0]
    shared = {"PREFECT_HOME": str(tmp / "prefect-shared"), "VERBATIMS_PREFECT_IDLE": "600"}
    _analyze(SAMPLE, tmp / "out4", tmp / "cache", env=shared)
    try:
        result, _ = _analyze(SAMPLE, tmp / "out5", tmp / "cache", env={**shared, "PYTHONPROFILEIMPORTTIME": "1"})
    finally:  # none outlives the session
        server = json.loads((tmp / "prefect-shared" / "verbatims-api" / "server.json").read_text())
        os.kill(server["pid"], signal.SIGTERM)
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert {"prefect", "pandas"} <= imported  # the probe sees the command's imports
    assert not imported & {"sklearn", "scipy", "bertopic", "spacy", "torch"}
