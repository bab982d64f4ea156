"""Issue 18, case 20: the watched folder reads only its own files, never a link to a file elsewhere."""

import os
import time

from review.inbox import ready_files


def test_symbolic_links_and_files_outside_the_folder_are_ignored(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "secret"
    inbox.mkdir()
    outside.mkdir()
    (outside / "salaires.csv").write_text("id,texte\n1,confidentiel\n", encoding="utf-8")
    (inbox / "vague.csv").write_text("id,texte\n1,une réponse\n", encoding="utf-8")
    (inbox / "lien.csv").symlink_to(outside / "salaires.csv")
    (inbox / "dossier").symlink_to(outside, target_is_directory=True)
    old = time.time() - 3600
    for path in (inbox / "vague.csv", outside / "salaires.csv"):
        os.utime(path, (old, old))
    assert [p.name for p in ready_files(inbox)] == ["vague.csv"]
