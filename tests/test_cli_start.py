"""`verbatims --help` and argument errors start nothing heavy (issue 19): no numpy, Prefect, spaCy, torch or
BERTopic is imported, in a fresh process as a user starts it. Its time is measured in bench/, not here."""

import subprocess
import sys

HEAVY = ("numpy", "prefect", "spacy", "torch", "bertopic", "sklearn", "pandas", "sqlalchemy")
PROBE = """
import sys
from typer.testing import CliRunner
from cli.main import app
runner = CliRunner()
for args in ({args}):
    runner.invoke(app, args)
print(",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def heavy_imports(*commands: list[str]) -> str:
    code = PROBE.format(args="".join(f"{c!r}, " for c in commands), heavy=HEAVY)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_help_imports_nothing_heavy():
    assert heavy_imports(["--help"], ["analyze", "--help"], ["review", "--help"], ["users", "--help"]) == ""


def test_an_argument_error_imports_nothing_heavy():
    assert heavy_imports(["analyze"], ["runs", "--limit", "trois"], ["nope"]) == ""


def test_a_mistyped_input_path_starts_no_prefect_server():
    """Not even Prefect imported: no server is started to wait idle for the retry (a file that exists is read
    while the server starts)."""
    assert heavy_imports(["analyze", "/nulle/part/reponses.csv"], ["analyze", "README.md"], ["analyze", "tests"]) == ""
