"""The watched folder's bookkeeping: which files are ready, one claim per content, and where files end up."""

import json
import os
import time
from pathlib import Path

from review.inbox import (
    MAX_ATTEMPTS,
    arrival,
    claim,
    duplicate_reason,
    file_away,
    finish,
    ready_files,
    unsupported_reason,
)


def _drop(folder, name, text="id,texte\n1,Plus de moyens\n", age=3600):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


def test_only_finished_files_are_ready(tmp_path):
    _drop(tmp_path, "b.csv", age=100)
    _drop(tmp_path, "a.xlsx", age=200)
    _drop(tmp_path, "copying.csv", age=1)  # still being written: touched a second ago
    _drop(tmp_path, "export.csv.part")
    _drop(tmp_path, ".hidden.csv")
    _drop(tmp_path, "~$open-in-excel.xlsx")
    (tmp_path / "processed").mkdir()
    assert [p.name for p in ready_files(tmp_path, settle_seconds=30)] == ["a.xlsx", "b.csv"]  # oldest first
    assert ready_files(tmp_path / "missing") == []


def test_unsupported_types_are_named():
    assert unsupported_reason(Path("notes.pdf")).startswith("type de fichier non pris en charge « .pdf » : utilisez .csv")
    assert unsupported_reason(Path("wave.XLSX")) is None


def test_a_content_is_claimed_once_and_a_copy_is_a_duplicate(store, tmp_path):
    first = arrival(_drop(tmp_path, "wave.csv"))
    assert claim(store, first) is None
    assert claim(store, first).status == "running"  # a second watcher leaves it alone
    finish(store, first.sha256, "processed", run_id="run-1")
    copy = arrival(_drop(tmp_path, "wave (copy).csv"))
    earlier = claim(store, copy)
    assert copy.sha256 == first.sha256 and earlier.run_id == "run-1"
    assert duplicate_reason(earlier) == "même contenu que wave.csv, déjà analysé dans l'analyse run-1"


def test_a_passing_failure_is_tried_again_then_given_up(store, tmp_path):
    seen = arrival(_drop(tmp_path, "wave.csv"))
    assert claim(store, seen) is None
    for attempt in range(1, MAX_ATTEMPTS):
        assert finish(store, seen.sha256, "waiting", reason="database is locked").status == "waiting"
        assert claim(store, seen) is None, f"attempt {attempt + 1} should be allowed"
    row = finish(store, seen.sha256, "waiting", reason="database is locked")
    assert row.status == "failed" and row.reason == f"database is locked (après {MAX_ATTEMPTS} tentatives)"
    assert duplicate_reason(claim(store, seen)).startswith("même contenu que wave.csv, dont l'analyse a échoué : database")


def test_filed_files_keep_a_note_and_never_overwrite(tmp_path):
    moved = file_away(_drop(tmp_path, "wave.csv"), "failed", {"reason": "input file has no rows"})
    assert moved == tmp_path / "failed" / "wave.csv" and not (tmp_path / "wave.csv").exists()
    note = json.loads((tmp_path / "failed" / "wave.csv.json").read_text())
    assert note == {"file": "wave.csv", "outcome": "failed", "reason": "input file has no rows"}
    again = file_away(_drop(tmp_path, "wave.csv", text="id,texte\n2,Du temps\n"), "failed", {"reason": "x"})
    assert again.parent == tmp_path / "failed" and again.name.endswith("-wave.csv")
    assert (tmp_path / "failed" / "wave.csv").read_text().endswith("Plus de moyens\n")
