"""Issue 18, case 13: a run's folder takes its place whole, or not at all (``flows.tasks.replace_folder``)."""

from flows.tasks import replace_folder


def test_a_new_folder_takes_the_place_of_an_earlier_run_whole(tmp_path):
    target, new = tmp_path / "out", tmp_path / ".out.r2.partial"
    target.mkdir()
    (target / "themes.csv").write_text("ancien", encoding="utf-8")
    (target / "chart-vagues.png").write_bytes(b"ancien")  # a file the new run does not write
    new.mkdir()
    (new / "themes.csv").write_text("nouveau", encoding="utf-8")
    replace_folder(new, target)
    assert sorted(p.name for p in target.iterdir()) == ["themes.csv"]
    assert (target / "themes.csv").read_text(encoding="utf-8") == "nouveau"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # neither the staging folder nor the old one is left


def test_a_first_run_creates_its_folder(tmp_path):
    new = tmp_path / ".out.r1.partial"
    new.mkdir()
    (new / "report.md").write_text("# Thèmes", encoding="utf-8")
    replace_folder(new, tmp_path / "out")
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and (tmp_path / "out" / "report.md").exists()
