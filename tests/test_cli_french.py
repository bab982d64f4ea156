"""The command line speaks French: every help page, what the review commands print, and Click's own words (usage
line, help option, usage errors), each checked with the English-word check of tests/test_french.py."""

import re

import pytest
from test_french import english
from typer.main import get_command
from typer.testing import CliRunner

from cli.main import app
from pipeline import settings
from review.corrections import load_state

cli = CliRunner()


def _commands(command, path=()):
    """Every command and group under ``command``, as the words typed after ``verbatims``."""
    yield list(path)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


PATHS = list(_commands(get_command(app)))
# Command names are typed as they are ("undo", "rename-net"): spared wherever the help names them
_NAMES = re.compile(r"(?<![\w-])(" + "|".join(sorted({p[-1] for p in PATHS if p}, key=len, reverse=True)) + r")(?![\w-])")


def verbatims(*args: str):
    return cli.invoke(app, list(args), prog_name="verbatims")


def test_the_walk_reaches_every_command():
    assert len(PATHS) > 30 and ["review", "undo"] in PATHS and ["models", "promote"] in PATHS and ["users", "add"] in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "verbatims")
def test_every_help_page_is_french(path):
    shown = verbatims(*path, "--help")
    assert shown.exit_code == 0, shown.output
    page = shown.output
    assert page.startswith(f"Utilisation : {' '.join(['verbatims', *path])} ")
    assert "--help  " in page and "Afficher cette aide et quitter." in page
    assert english(_NAMES.sub(" ", page)) == [], page


def test_help_notes_types_and_sections_are_french():
    queue = verbatims("review", "queue", "--help").output
    assert "--limit <entier>" in queue and "[par défaut : 20 ; x>=1]" in queue
    assert "ANALYSE <texte>" in queue and "[obligatoire]" in queue
    assert "\nCommandes :\n" in verbatims("--help").output and "\nOptions :\n" in queue
    alone = verbatims("review")  # a group typed alone shows its help
    assert alone.output.startswith("Utilisation : verbatims review [OPTIONS] COMMANDE [ARGUMENTS]...")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["review", "show"], "erreur : argument manquant : ANALYSE"),
        (["review", "split", "r1", "t1", "u1"], "erreur : option obligatoire manquante : --label"),
        (["runs", "--lim", "3"], "erreur : option inconnue : --lim (options possibles : --limit)"),
        (["runs", "--limit", "trois"], "erreur : valeur incorrecte pour --limit : un nombre entier est attendu"),
        (["runs", "--limit", "0"], "erreur : valeur incorrecte pour --limit : la valeur doit être au moins 1"),
        (["runs", "a", "b"], "erreur : arguments en trop : a b"),
        (["runs", "a"], "erreur : argument en trop : a"),
        (["analyse"], "erreur : commande inconnue « analyse » ; vouliez-vous dire 'analyze' ?"),
        (["review", "rien"], "erreur : commande inconnue « rien »"),
        (["review", "undo", "r1", "--event"], "erreur : l'option --event demande une valeur"),
    ],
)
def test_a_usage_error_is_one_french_line(args, said):
    refused = verbatims(*args)
    assert refused.exit_code == 2
    assert said in refused.stderr, refused.stderr
    assert "Usage" not in refused.stderr and "Try " not in refused.stderr and not english(refused.stderr)


def test_a_usage_error_shows_the_usage_line_and_where_to_find_help():
    refused = verbatims("review", "show").stderr.splitlines()
    assert refused == [
        "Utilisation : verbatims review show [OPTIONS] {ANALYSE}",
        "Aide : verbatims review show --help",
        "erreur : argument manquant : ANALYSE",
    ]


@pytest.fixture
def reviewed(recorded_run, monkeypatch):
    """The sample's recorded run with one theme renamed from the command line: (store, run, theme)."""
    store, run = recorded_run
    if not store.url.startswith("sqlite"):
        pytest.skip("the commands are the same on both databases: tried on SQLite")
    monkeypatch.setattr(settings, "_current", None)  # the --db options below configure the settings: undone after
    theme = max(load_state(store, run).themes, key=lambda t: len(load_state(store, run).members(t)))
    renamed = verbatims("review", "rename", run, theme, "Moyens humains", "--db", store.url, "--reviewer", "alice")
    assert renamed.exit_code == 0 and "Correction #1 enregistrée : renommage" in renamed.output, renamed.output
    return store, run, theme


def test_what_the_review_commands_print_is_french(reviewed, tmp_path):
    store, run, theme = reviewed
    state = load_state(store, run)
    db = ("--db", store.url)
    runs = verbatims("runs", *db).output
    assert re.search(rf"^{run} +analyse .* revue$", runs, re.MULTILINE), runs

    show = verbatims("review", "show", run, *db).output
    nets = len(state.nets())
    assert show.startswith(
        f"Analyse {run}, version 1 : {len(state.themes)} thèmes dans {nets} regroupements, 0 idée revue, 0 hors sujet\n"
    )
    size = len(state.members(theme))
    assert re.search(rf"^  {theme} +{size} idées  Moyens humains$", show, re.MULTILINE), show
    assert re.search(r"^regroupement \S+ +\d+ idées? ", show, re.MULTILINE)

    units = verbatims("review", "units", run, theme, "--search", "zzz-absent", *db).output
    assert units == f"Moyens humains : 0 sur {size} idées (version 1)\n"

    history = verbatims("review", "history", run, *db).output
    assert re.match(r"#1 \S+ \S+ alice renommage \{", history)
    assert "\n    avant  {" in history and "\n    après  {" in history

    out = tmp_path / "reviewed"
    exported = verbatims("review", "export", run, "--out", str(out), *db).output
    assert exported.startswith(f"Analyse {run} telle que revue (version 1) : ")
    assert f"Résultats : {out}/" in exported and (out / "themes.csv").exists()

    moved = verbatims("review", "move", run, state.members(theme)[0], *db, "--reviewer", "alice")
    assert moved.exit_code == 2 and "erreur : indiquez soit --to THÈME, soit --new LIBELLÉ" in moved.stderr
    # theme labels are the reviewers' words and the history's before/after are stored fields: not prose
    for printed in (runs, show.replace("Moyens humains", ""), units, history.split("{")[0], exported, moved.stderr):
        assert english(printed) == [], printed


def test_the_password_prompt_is_french_and_leaving_it_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "_current", None)  # the --db option below configures the settings: undone after
    monkeypatch.delenv("VERBATIMS_PASSWORD", raising=False)
    add = ["users", "add", "ana", "--role", "viewer", "--db", str(tmp_path / "users.sqlite")]
    left = verbatims(*add)  # no input: the prompt reads the end of the input, as after Ctrl-D
    assert left.exit_code == 1 and left.output.startswith("Mot de passe : ") and left.stderr == "Interrompu.\n"
    saved = cli.invoke(app, add, input="un mot de passe assez long\n" * 2, prog_name="verbatims")
    assert saved.exit_code == 0 and "Mot de passe, une seconde fois : " in saved.output, saved.output
    assert "utilisateur ana (viewer) enregistré" in saved.output
    mistyped = cli.invoke(app, add, input="un mot de passe assez long\nun autre\n", prog_name="verbatims")
    assert mistyped.exit_code == 2 and "erreur : les deux mots de passe saisis diffèrent" in mistyped.stderr
