"""One composition of the analysis: answers file -> idea units -> vectors -> themes -> ranked themes.

``Analysis`` holds the settings (scikit-learn style: hyperparameters in ``__init__``, nothing learned there)
and has one method per stage. ``run`` chains them in this process, for benchmarks and tests; the Prefect
flows (``flows/``) call the same stage methods from their tasks, batch by batch, with caching and retries.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.bundle import Bundle
from pipeline.clean import analyse_texts, assemble, cached_cleaning
from pipeline.codebook import Codebook, Seeds, codebook_seeds
from pipeline.coherence import ThemeRefiner
from pipeline.embed import cached_vectors, embed, embedder_id, load_embedder, place_rows
from pipeline.ingest import ingest
from pipeline.label_codes import LabelCoder
from pipeline.manifest import Manifest, count, input_info, versions
from pipeline.nets import NET_DISTANCE, NET_DISTANCE_KEY, add_nets, count_nets
from pipeline.rank import rank_themes
from pipeline.records import CleanResult, ClusterResult, Dataset, IdeaUnit, Theme
from pipeline.settings import DEFAULT_EMBEDDER
from pipeline.themes import find_themes

CLEAN_BATCH = 2000  # answers per cleaning batch: about 20 s of spaCy on one core
EMBED_BATCH = 4096  # texts per embedding batch
DEFAULT_REFINER = ThemeRefiner()
DEFAULT_LABEL_CODER = LabelCoder()


@dataclass
class Analysed:
    """What one run produced, stage by stage: what the manifest, the exports and the store are made from."""

    dataset: Dataset
    cleaned: CleanResult
    clustered: ClusterResult = field(default_factory=lambda: ClusterResult(themes=[], assignments=[], parameters={}))
    themes: list[Theme] = field(default_factory=list)
    vectors: np.ndarray | None = None
    embedded_new: int = 0  # vectors computed, not found in the cache

    def bundle(self, manifest: Manifest) -> Bundle:
        """What the run's files are written from."""
        cleaned = self.cleaned
        return Bundle(
            self.themes, self.clustered.assignments, cleaned.units, cleaned.excluded, self.dataset.responses, manifest
        )


class Pending:
    """The rows of a run's texts that a cache did not hold, by distinct text: ``new`` are the texts to compute, in
    the order ``take`` hands out their rows; ``filled`` counts the rows done."""

    def __init__(self, texts: list[str], missing: dict[str, list[int]]) -> None:
        self._rows = list(missing.values())
        self.new = [texts[rows[0]] for rows in self._rows]
        self.filled = len(texts) - sum(len(rows) for rows in self._rows)

    def take(self, start: int, n: int) -> list[list[int]]:
        """The rows of ``new[start:start + n]``, now counted as filled."""
        rows = self._rows[start : start + n]
        self.filled += sum(len(r) for r in rows)
        return rows


class Vectors(Pending):
    """A run's vectors in one matrix: those the embedding cache holds are read at once (a re-run computes only its
    new texts), the others placed batch by batch as they are computed, each batch dropped once copied."""

    def __init__(self, texts: list[str], embedder: str) -> None:
        self.matrix, missing = cached_vectors(texts, embedder_id(embedder))
        super().__init__(texts, missing)
        self.n_rows, self.computed = len(texts), 0

    def put(self, start: int, vectors: np.ndarray, computed: int) -> None:
        """The vectors of ``new[start:start + len(vectors)]``; ``computed`` of them were not in the cache."""
        self.matrix = place_rows(self.matrix, self.n_rows, self.take(start, len(vectors)), vectors)
        self.computed += computed

    def result(self) -> tuple[np.ndarray, int]:
        matrix = self.matrix if self.matrix is not None else np.empty((0, 0), dtype=np.float32)
        return matrix, self.computed


class Cleaning(Pending):
    """A run's answers as cleaning's costly part leaves them (``analyse_texts``): those its cache holds are read at
    once (a re-run cleans only its new answers), the others put batch by batch as they are cleaned."""

    def __init__(self, texts: list[str]) -> None:
        self.results, missing = cached_cleaning(texts)
        super().__init__(texts, missing)

    def put(self, start: int, analysed: list[dict]) -> None:
        """The results of ``new[start:start + len(analysed)]``."""
        for rows, result in zip(self.take(start, len(analysed)), analysed, strict=True):
            for row in rows:
                self.results[row] = result


def batches(items: list, size: int) -> Iterator[tuple[int, list]]:
    """(start, slice) pairs of ``size`` items, in order."""
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


class Analysis:
    """French answers to ranked themes.

    Args:
        embedder: use-multilingual (default), minilm, or a sentence-transformers model path.
        codebook: expected themes, which name the themes found near them; None finds themes from the answers.
        n_themes: clusters to look for; None grows them with the square root of the units.
        stop_words: the question's own vocabulary, kept out of keywords (beside the codebook's ``stop_words``).
        refiner: what runs after clustering: coherence scores, bags split or dissolved, near-duplicate codes
            merged (``pipeline.coherence.ThemeRefiner``); None keeps the clusters as found.
        label_coder: what runs last: a unit holding a code label's words also carries that code
            (``pipeline.label_codes.LabelCoder``); None keeps one code per unit.
        net_distance: codes closer than this (cosine between their centres seen from the mean of all units,
            average linkage) share a net.
        named_nets: theme id -> net label, beside the codebook's ``net:`` entries (a wave classified with a model
            keeps the nets its training run's codebook named).
        clean_batch, embed_batch: answers per cleaning batch and texts per embedding batch.
        random_state: seeds every k-means of the analysis, the theme model's and the refiner's splits; None leaves
            each its own seed (0 unless the refiner was given another).
        **theme_options: anything else ``pipeline.themes.find_themes`` takes (e.g. ``clusterer``).
    """

    def __init__(
        self,
        embedder: str = DEFAULT_EMBEDDER,
        codebook: Codebook | None = None,
        n_themes: int | None = None,
        stop_words: tuple[str, ...] = (),
        refiner: ThemeRefiner | None = DEFAULT_REFINER,
        label_coder: LabelCoder | None = DEFAULT_LABEL_CODER,
        net_distance: float = NET_DISTANCE,
        named_nets: dict[str, str] | None = None,
        clean_batch: int = CLEAN_BATCH,
        embed_batch: int = EMBED_BATCH,
        random_state: int | None = None,
        **theme_options: object,
    ) -> None:
        self.embedder = embedder
        self.codebook = codebook
        self.n_themes = n_themes
        self.stop_words = stop_words
        self.refiner = refiner
        self.label_coder = label_coder
        self.net_distance = net_distance
        self.named_nets = named_nets
        self.clean_batch = clean_batch
        self.embed_batch = embed_batch
        self.random_state = random_state
        self.theme_options = theme_options

    def __repr__(self) -> str:
        """Every setting: the flows key the theme stage's cached result on it."""
        options = "".join(f", {name}={value!r}" for name, value in sorted(self.theme_options.items()))
        return (
            f"Analysis(embedder={self.embedder!r}, codebook={self.codebook!r}, n_themes={self.n_themes!r}, "
            f"stop_words={self.stop_words!r}, refiner={self.refiner!r}, label_coder={self.label_coder!r}, "
            f"net_distance={self.net_distance!r}, "
            f"named_nets={self.named_nets!r}, clean_batch={self.clean_batch}, embed_batch={self.embed_batch}, "
            f"random_state={self.random_state!r}{options})"
        )

    # -- stages ---------------------------------------------------------------------------------------

    def ingest(
        self, path: Path, text_col: str | None = None, id_col: str | None = None, dedupe_ids: bool = False
    ) -> Dataset:
        return ingest(Path(path), text_col, id_col, dedupe_ids)

    def cleaning(self, dataset: Dataset) -> Cleaning:
        """The answers as the cache holds them cleaned; ``analyse`` cleans the others (``Cleaning.new``)."""
        return Cleaning([r.text for r in dataset.responses])

    def clean_batches(self, texts: list[str]) -> Iterator[tuple[int, list[str]]]:
        return batches(texts, self.clean_batch)

    def analyse(self, texts: list[str]) -> list[dict]:
        """Cleaning's costly, order-free part, for one batch: it can run in any process."""
        return analyse_texts(texts)

    def assemble(self, dataset: Dataset, analysed: list[dict]) -> CleanResult:
        """Cleaning's last part, over every batch at once: duplicates are judged across batches."""
        return assemble(dataset.responses, analysed)

    def clean(self, dataset: Dataset) -> CleanResult:
        cleaning = self.cleaning(dataset)
        for start, part in self.clean_batches(cleaning.new):
            cleaning.put(start, self.analyse(part))
        return self.assemble(dataset, cleaning.results)

    def embed_batches(self, texts: list[str]) -> Iterator[tuple[int, list[str]]]:
        return batches(texts, self.embed_batch)

    def embed_texts(self, texts: list[str]) -> tuple[np.ndarray, int]:
        """One batch's unit vectors, and how many were computed (the rest came from the cache)."""
        return embed(texts, load_embedder(self.embedder))

    def vectors(self, texts: list[str]) -> Vectors:
        """``texts``' vectors as the cache holds them; ``embed_texts`` computes the others (``Vectors.new``)."""
        return Vectors(texts, self.embedder)

    def embed(self, texts: list[str]) -> tuple[np.ndarray, int]:
        vectors = self.vectors(texts)
        for start, part in self.embed_batches(vectors.new):
            vectors.put(start, *self.embed_texts(part))
        return vectors.result()

    def seeds(self) -> Seeds | None:
        return codebook_seeds(self.codebook, load_embedder(self.embedder)) if self.codebook else None

    def find_themes(self, units: list[IdeaUnit], vectors: np.ndarray) -> ClusterResult:
        """Clustered, refined and coded by label words: the themes of a run with no reviews to carry over."""
        return self.code_labels(self.cluster(units, vectors), units, vectors)

    def cluster(self, units: list[IdeaUnit], vectors: np.ndarray) -> ClusterResult:
        """One code per unit: clustered, then refined."""
        seeded = {} if self.random_state is None else {"random_state": self.random_state}
        found = find_themes(
            units, vectors, self.codebook, self.seeds(), self.n_themes, stop_words=self.stop_words,
            **seeded, **self.theme_options,
        )  # fmt: skip
        return found if self.refiner is None else self._refine(found, units, vectors)

    def code_labels(
        self, result: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray, fixed: Collection[str] = ()
    ) -> ClusterResult:
        """``result`` with the label coder's further codes; units of ``fixed`` (ids: those a reviewer set) keep
        their themes as they are."""
        if self.label_coder is None:
            return result
        rows = [i for i, u in enumerate(units) if u.unit_id not in fixed] if fixed else range(len(units))
        return copy.copy(self.label_coder).code(result, units, vectors, rows)

    def _refine(self, found: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> ClusterResult:
        # a copy learns this run's state (its vectors' coherence space among it), so the default refiner every
        # Analysis shares keeps no run's data and two runs in one process never overwrite each other's
        refiner = copy.copy(self.refiner)
        if self.random_state is not None:
            refiner.random_state = self.random_state
        return refiner.refine(found, units, vectors)

    def rank(self, clustered: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray, dataset: Dataset) -> list[Theme]:
        return rank_themes(
            clustered.themes, clustered.assignments, units, vectors, dataset.responses, dataset.segment_columns
        )

    def codebook_nets(self) -> dict[str, str]:
        """Theme id -> net label, from ``named_nets`` and the codebook's ``net:`` entries."""
        return {**(self.named_nets or {}), **(self.codebook.nets if self.codebook else {})}

    def nets(self, themes: list[Theme], clustered: ClusterResult, units: list[IdeaUnit], vectors: np.ndarray) -> list[Theme]:
        """Ranked codes rolled up into nets: ranked nets first, then the codes inside each. Nets reviewers gave
        the themes carried over from earlier runs (``carried_nets``) are kept."""
        named = {**self.codebook_nets(), **clustered.parameters.get("carried_nets", {})}
        return add_nets(themes, clustered.assignments, units, vectors, named, self.net_distance)

    # -- in one process -------------------------------------------------------------------------------

    def run(self, dataset: Dataset) -> Analysed:
        """Every stage after ingest, here and now: what a flow run computes, without Prefect."""
        cleaned = self.clean(dataset)
        if not cleaned.units:
            return Analysed(dataset, cleaned)
        vectors, computed = self.embed([u.text for u in cleaned.units])
        clustered = self.find_themes(cleaned.units, vectors)
        themes = self.nets(self.rank(clustered, cleaned.units, vectors, dataset), clustered, cleaned.units, vectors)
        return Analysed(dataset, cleaned, clustered, themes, vectors, computed)

    def manifest(
        self,
        run_id: str,
        input_path: Path,
        analysed: Analysed,
        codebook_path: Path | None,
        timings: dict[str, float],
        question: str | None = None,
    ) -> Manifest:
        """``timings`` is kept, not copied: stages timed after this call (export, record) still land in it.
        ``question`` titles the report; by default the codebook's."""
        dataset, cleaned, clustered = analysed.dataset, analysed.cleaned, analysed.clustered
        return Manifest(
            run_id=run_id,
            question=question or (self.codebook.question if self.codebook else ""),
            input=input_info(Path(input_path), dataset),
            parameters={
                "embedder": embedder_id(self.embedder),
                "codebook": str(codebook_path) if codebook_path else None,
                **clustered.parameters,
                NET_DISTANCE_KEY: self.net_distance,
                **({"codebook_nets": self.codebook_nets()} if self.codebook_nets() else {}),  # for the reviewed export
            },
            versions=versions(),
            counts=count(
                len(dataset.responses),
                cleaned.units,
                cleaned.excluded,
                len(clustered.themes),
                analysed.embedded_new,
                nets=count_nets(analysed.themes),
            ),
            timings_s=timings,
        )
