"""Issue 18, case 11: a PostgreSQL store's password never reaches Prefect's database (flow parameters, logs)."""

import os
import subprocess
import sys
from pathlib import Path

PASSWORD = "Zp4ss-7731-secret"


def test_the_store_password_is_not_kept_by_prefect(postgres_url, tmp_path):
    url = postgres_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")  # trust: any password
    answers = tmp_path / "vague.csv"
    rows = ["Plus de moyens humains pour former les équipes", "Un vrai sponsor à la direction générale"] * 3
    answers.write_text("id,texte\n" + "".join(f"{i},{t}\n" for i, t in enumerate(rows)), encoding="utf-8")
    home = tmp_path / "prefect"
    env = {**os.environ, "PREFECT_HOME": str(home), "VERBATIMS_DB": url}
    command = Path(sys.executable).with_name("verbatims")
    done = subprocess.run(
        [str(command), "analyze", str(answers), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    kept = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert b"verbatims_test" in kept  # the store is named in the run's parameters...
    assert PASSWORD.encode() not in kept  # ...without its password
