import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest
from conftest import SAMPLE

import pipeline.clean as clean_module
from pipeline import settings
from pipeline.clean import clean, non_answer_reason, normalize, split_list
from pipeline.masking import mask_patterns
from pipeline.records import Dataset, Response


def run(*texts, ids=None):
    ids = ids or [f"r{i}" for i in range(len(texts))]
    return clean(Dataset([Response(i, t) for i, t in zip(ids, texts, strict=True)], "t", "id", [], [], ""))


def test_typography_is_normalised():
    assert normalize("L\u2019équipe\u00a0: «\u202fdu temps\u202f»  \n\n - oui") == 'L\'équipe : " du temps "\n- oui'


def test_patterns_are_masked():
    text = "Écrivez à jean.dupont@acme.fr, au 06 12 34 56 78 ou +33 1 23 45 67 89, voir https://acme.fr/x?y=1"
    assert mask_patterns(text) == "Écrivez à [EMAIL], au [TÉLÉPHONE] ou [TÉLÉPHONE], voir [URL]"


def test_capitalised_verbs_are_not_taken_for_names():
    (unit,) = run("Remobiliser les équipes après la crise").units
    assert unit.text == "Remobiliser les équipes après la crise" and "remobiliser" in unit.lemmas


def test_person_names_are_masked_and_kept_out_of_lemmas():
    (unit,) = run("Le soutien de notre directeur général Jean-Pierre Martin manque cruellement").units
    assert "Jean-Pierre" not in unit.text and "[NOM]" in unit.text
    assert "martin" not in unit.lemmas and "soutien" in unit.lemmas


@pytest.mark.parametrize(
    "text",
    [
        "RAS",
        "ras.",
        "RAS, tout va bien",
        "Rien à ajouter",
        "Je ne sais pas trop",
        "Rien",
        "NSP",
        "Je ne sais pas",
        "-",
        "?",
        "N/A",
        "...",
        "néant",
        "0",
    ],
)
def test_non_answers_are_set_aside_with_a_reason(text):
    result = run(text)
    assert result.units == []
    (excluded,) = result.excluded
    assert excluded.text == text
    assert excluded.reason.startswith(("non-réponse", "aucun mot", "réponse vide"))


def test_real_answers_are_not_taken_for_non_answers():
    for text in ("Rien ne bouge sans la direction", "Du temps", "Non pas plus de budget mais plus de temps"):
        assert non_answer_reason(text) is None, text


def test_lists_semicolons_and_numbers_split_into_ideas():
    assert split_list("Plus de moyens ; du temps ; de la formation") == ["Plus de moyens", "du temps", "de la formation"]
    assert split_list("1. Un sponsor 2. Des budgets 3) du temps") == ["Un sponsor", "Des budgets", "du temps"]
    assert split_list("- du budget\n- des outils") == ["du budget", "des outils"]


def test_sentences_become_ideas_but_short_follow_ups_stay_attached():
    (a, b) = run(
        "Il manque un vrai soutien de la direction générale. "
        "Les managers ne relaient pas le message auprès des équipes. Merci !"
    ).units
    assert a.text == "Il manque un vrai soutien de la direction générale."
    assert b.text.endswith("Merci !")
    assert (a.unit_id, b.unit_id, a.respondent_id) == ("r0#1", "r0#2", "r0")
    assert "direction" in a.lemmas and "le" not in a.lemmas.split()


def test_non_french_answers_are_set_aside():
    result = run("We need stronger executive sponsorship and a dedicated budget for customer experience.")
    assert result.excluded[0].reason == "pas en français (langue détectée : en)"


# Each was set aside as not French by the langdetect rule used before (elf_dev.csv, FI7, FI8, DC13).
@pytest.mark.parametrize(
    "text",
    [
        "FAIRE PAYER PLUS LES HAUTS REVENUS ET LES SOCIETES ETRANGERES A GROS BENEFICES",  # capitals, no accents
        "l'impot sert a payer els interets de la dette",  # typos
        "PRINCIPES DE LAICITE A RESPECTER PAR TOUS SANS EXCEPTION",
        "BAISSER LA TVA SUR LES PRODUITS DE PREMIERE NECESSITE",
    ],
)
def test_french_in_capitals_without_accents_or_with_typos_is_kept(text):
    assert run(text).excluded == []


@pytest.mark.parametrize(
    "text, language",
    [
        ("Necesitamos más transparencia sobre cómo se gasta el dinero de los impuestos", "es"),
        ("Wir brauchen mehr Transparenz darüber, wie die Steuern ausgegeben werden", "de"),
        ("Serve più trasparenza su come vengono spese le tasse dei cittadini", "it"),
    ],
)
def test_answers_in_other_languages_are_set_aside_with_the_language(text, language):
    assert run(text).excluded[0].reason == f"pas en français (langue détectée : {language})"


def test_duplicates_are_set_aside_and_short_shared_answers_kept():
    long = "Un engagement de la direction générale qui doit se traduire par des moyens humains et financiers durables"
    result = run("Du temps", "Du temps", "Du temps", long, long, ids=["a", "a", "b", "c", "d"])
    reasons = {(e.respondent_id, e.reason) for e in result.excluded}
    assert reasons == {
        ("a", "ligne en double (même identifiant et même réponse qu'une ligne précédente)"),
        ("d", "copie (de la réponse du répondant c)"),
    }
    assert [u.respondent_id for u in result.units] == ["a", "b", "c"]


def test_every_sample_row_is_kept_or_set_aside_with_its_reason(sample_dataset, sample_clean):
    kept = {u.respondent_id for u in sample_clean.units}
    assert len(sample_dataset.responses) == len(kept) + len(sample_clean.excluded)
    reasons = Counter(e.kind for e in sample_clean.excluded)
    # the sample holds 20 non-answers (one submitted twice), 3 answers in English and 3 duplicated rows
    assert reasons == {"non-réponse": 16, "aucun mot": 5, "pas en français": 3, "ligne en double": 2}


def test_cached_answers_are_not_parsed_again(monkeypatch):
    run("Des ateliers de design de service pour les conseillers")

    def no_parse():
        raise AssertionError("spaCy called for a cached answer")

    monkeypatch.setattr(clean_module, "load_spacy", no_parse)
    (unit,) = run("Des ateliers de design de service pour les conseillers").units
    assert "atelier" in unit.lemmas


def test_names_are_masked_mid_sentence_and_at_the_start_of_a_sentence():
    (mid,) = run("Nous remercions Sophie Durand pour son accompagnement").units
    assert mid.text == "Nous remercions [NOM] pour son accompagnement" and "durand" not in mid.lemmas.split()
    (start,) = run("Martin nous a beaucoup aidés pendant le projet").units
    assert start.text == "[NOM] nous a beaucoup aidés pendant le projet" and "martin" not in start.lemmas.split()


def test_names_are_looked_for_only_in_answers_with_a_proper_noun():
    # NER marks every token of a doc it reads (outside a name: "O"); the others keep no entity annotation
    texts = ["des moyens pour les équipes", "Remobiliser les équipes après la crise", "Sophie Durand nous aide"]
    docs = clean_module._parse(clean_module.load_spacy(), texts)
    assert [doc.has_annotation("ENT_IOB") for doc in docs] == [False, False, True]


@pytest.mark.slow  # starts a worker process that loads spaCy
def test_a_batch_shared_with_a_worker_process_gives_what_one_process_gives(monkeypatch, sample_dataset):
    texts = [r.text for r in sample_dataset.responses]
    monkeypatch.setattr(clean_module, "CLEAN_WORKERS", 1)
    monkeypatch.setattr(clean_module, "SHARE_ANSWERS", 40)
    try:
        clean_module._workers().submit(os.getpid).result()  # started: it takes shares from the first one on
        shares = clean_module._Shares(texts)
        shared = shares.analyse()
    finally:
        clean_module.stop_workers()
    assert shares.remote, "the worker took no share"
    assert shared == clean_module._analyse_here(texts)


def test_a_worker_process_starts_no_workers_of_its_own(monkeypatch):
    """Dask workers and cleaning workers are child processes: a pool in each would hold a spaCy per process."""
    monkeypatch.setattr(clean_module, "CLEAN_WORKERS", 1)
    assert clean_module._use_workers(clean_module.MIN_ANSWERS_FOR_WORKERS)
    assert not clean_module._use_workers(300)  # the sample: a worker's start would cost more than it saves
    with ProcessPoolExecutor(1, multiprocessing.get_context("spawn")) as child:
        assert child.submit(clean_module._use_workers, 100_000).result() is False


@pytest.mark.slow  # starts a worker process that loads spaCy, twice
def test_a_worker_that_died_between_batches_costs_no_answer(monkeypatch, sample_dataset):
    texts = [r.text for r in sample_dataset.responses]
    monkeypatch.setattr(clean_module, "CLEAN_WORKERS", 1)
    try:
        pool = clean_module._workers()
        os.kill(pool.submit(os.getpid).result(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        with pytest.raises(BrokenProcessPool):  # the pool has noticed
            pool.submit(os.getpid).result()
        assert clean_module._Shares(texts).analyse() == clean_module._analyse_here(texts)
        assert clean_module._POOL is None  # the next large batch starts a new worker
    finally:
        clean_module.stop_workers()


def test_idle_workers_stop_but_not_under_a_batch_sharing_them():
    """A flow ends the cleaning worker once its batches are done; another flow's batch sharing it keeps it."""
    with clean_module._using_workers() as pool:  # no process yet: a pool spawns its worker on its first task
        clean_module.stop_workers(unless_in_use=True)
        assert clean_module._POOL is pool  # in use: kept
    clean_module.stop_workers(unless_in_use=True)
    assert clean_module._POOL is None  # idle: ended, the next large batch starts a new one


def test_a_process_holding_spacy_cleans_ahead_in_a_thread_of_its_own(tmp_path):
    """A run served by the resident engine: its few new answers are cleaned while Prefect starts the flow, by a
    thread of the process (which holds spaCy), not by a worker that would load its own."""
    texts = [f"Des ateliers de design de service pour les conseillers, vague {n}" for n in range(3)]
    with settings.overridden(cache=tmp_path):
        clean_module.load_spacy()
        pool = clean_module._POOL
        clean_module.clean_ahead(texts)
        (share,) = clean_module._AHEAD
        assert clean_module._POOL is pool  # no worker started for them
        share.result(timeout=120)
        assert clean_module.uncleaned(texts) == []  # in the cache before the flow asks
        assert json.dumps(clean_module.analyse_texts(texts)) == json.dumps(clean_module._analyse_here(texts))
        assert clean_module._AHEAD == []  # taken back


_CLEANED_AHEAD = """
import json, sys, time
from pathlib import Path
from concurrent.futures import wait
import pipeline.clean as c
from pipeline.ingest import ingest

texts = [r.text for r in ingest(Path(sys.argv[1])).responses]
c.CLEAN_WORKERS, c.SHARE_ANSWERS = 1, 40
c.clean_ahead(texts[:120])
wait(c._AHEAD)  # every share done in the worker: this process needs no spaCy
first = c.analyse_texts(texts[:120])
spacy_here = c._load_spacy.cache_info().currsize
# The worker held busy, so that none of the shares below can finish before they are taken back (without this, a
# share parsed during the take-back made the count timing-dependent, and it failed once in CI)
c._POOL.submit(time.sleep, 3)
c.clean_ahead(texts[120:])
shares = list(c._AHEAD)
second = c.analyse_texts(texts[120:])  # at once: the shares not started come back here
c._POOL.submit(time.sleep, 3)
c.clean_ahead([f"{text} Merci." for text in texts])  # new texts: each share takes a parse, not a cache read
dropped = list(c._AHEAD)
c.take_back_ahead(wait=False)  # a command that failed before its cleaning: nothing queued is left to wait for
c.stop_workers()
print(json.dumps({
    "spacy_here": spacy_here,
    "same": json.dumps(first + second) == json.dumps(c._analyse_here(texts)),  # the cache keeps JSON
    "shares": len(shares), "cancelled": sum(f.cancelled() for f in shares),
    "dropped": len(dropped), "dropped_cancelled": sum(f.cancelled() for f in dropped),
    "left": len(c._AHEAD), "users": c._POOL_USERS, "uncleaned": len(c.uncleaned(texts)),
}))
"""


@pytest.mark.slow  # a fresh process (whether it loads spaCy is the point) and a worker that loads spaCy
def test_answers_cleaned_ahead_in_the_worker_spare_this_process_spacy(tmp_path):
    env = {**os.environ, "VERBATIMS_CACHE": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _CLEANED_AHEAD, str(SAMPLE)], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["spacy_here"] == 0  # the worker cleaned them all
    assert seen["same"]  # results as this process would give them, in input order
    # taken back while the worker sleeps: only the shares already moved to its call queue (two) were not cancelled
    assert seen["cancelled"] >= seen["shares"] - 2 > 0
    assert seen["dropped_cancelled"] >= seen["dropped"] - 2 > 0
    assert (seen["left"], seen["users"], seen["uncleaned"]) == (0, 0, 0)
