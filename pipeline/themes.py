"""Themes from idea units: BERTopic over size-adaptive KMeans on sentence + lemma TF-IDF features.

The clustering step is a backend passed to ``ThemeModel`` (``pipeline/clusterers.py``); KMeans is the default.

Why not BERTopic's defaults: UMAP + HDBSCAN collapsed a few hundred to a few thousand short answers
into 2 to 4 topics, and HDBSCAN swung between 3 and 60 topics as ``min_cluster_size`` moved slightly.
KMeans with k growing as the square root of the corpus was stable, and sentence embeddings joined
with lemma TF-IDF beat either alone (bench/RESULTS.md). BERTopic keeps its part: class-based TF-IDF
keywords on French lemmas, computed on our clusters.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence

import numpy as np

from pipeline import learn
from pipeline.clusterers import DEFAULT_CLUSTERER, ClusteringBackend, make_clusterer
from pipeline.codebook import Codebook, Seeds
from pipeline.labels import readable_keyword, written_words
from pipeline.naming import PhraseLabeller
from pipeline.records import OTHER_ID, OTHER_LABEL, Assignment, ClusterResult, IdeaUnit, Theme

# French filler that names no theme in any survey; a question's own vocabulary ("client", "culture" for a
# customer-culture survey) goes in its codebook's ``stop_words:`` or a ``--stop-words`` file.
FILLER_WORDS = {
    "aujourd'hui",
    "aujourd",
    "hui",
    "falloir",
    "faut",
    "faire",
    "avoir",
    "être",
    "chose",
    "besoin",
    "vraiment",
    "plus",
    "mieux",
    "peu",
    "beaucoup",
    "bien",
    "bon",
    "nouveau",
    "notamment",
    "etc",
}
SVD_DIMENSIONS = 100
# Keywords are picked from twice as many candidates, so that dropping unreadable ones ("manqu", "temps temps": see
# pipeline.labels.readable_keyword) still leaves ten. On today's sample and FI8, FI7, DC13 none of the top 10 is
# dropped: the filter guards against lemmatiser slips on other data, it changes nothing there.
KEYWORD_POOL = 2
# Themes are learned on at most this many units (a random, seeded sample), then every unit is placed in them.
# Features, TF-IDF and k-means grow with the units they see: on the 213,520 units of 100,000 answers the stage
# peaked 1.66 GiB above its input learning on all of them, 0.55 GiB on the sample (20 s instead of 51). The
# price, measured there: the sample's themes agree with all-unit themes at NMI 0.67, where two k-means seeds on
# all units agree at 0.74 (bench/RESULTS.md).
FIT_SAMPLE = 50_000
# A unit whose similarity to its centre is this many standard deviations below its theme's mean
# belongs to no theme well: it goes to "Autres" instead of diluting a theme's quotes and keywords.
OUTLIER_STD = 2.0
# A codebook theme names the cluster grown from it only if they stay this close (cosine).
MIN_CODEBOOK_SIMILARITY = 0.35
# A further cluster joins a codebook theme when it is this close and this much closer than to any other.
MIN_EXTRA_SIMILARITY = 0.30
MIN_EXTRA_MARGIN = 0.10


# Codes per square root of the units. Without a codebook the machine builds the whole code frame, and its nets
# (pipeline.nets) give the broad level, so codes can be as fine as a coder's: mean over seeds 0 to 5 of every
# k-means on FI8, FI7 and DC13 (one-off script, bench/RESULTS.md), recovery F1 / rank rho / NMI at 0.6:
# 0.508/0.51/0.507, 0.389/0.70/0.531, 0.407/0.52/0.655; at 1.0: 0.525/0.58/0.528, 0.397/0.73/0.567,
# 0.418/0.65/0.673 (0.8 and 1.2 each worse on one question; FI7's respondents in bags 2% -> 6%). With a codebook
# its themes are the broad level and further codes split them: on the sample at 1.0 the sponsorship net fell
# from 1st to 4th behind a bag, so the codebook's runs keep 0.6.
CODES_PER_ROOT = 1.0
CODEBOOK_CODES_PER_ROOT = 0.6
MAX_THEMES = 60


def theme_count(n_units: int, per_root: float = CODES_PER_ROOT) -> int:
    """About ``per_root`` * sqrt(n), at most MAX_THEMES: 10 themes for 100 units, 32 for 1,000, 60 from 3,600.

    NMI was flat from 0.5 to 1.2 * sqrt(n) on three coded questions of 464 to 1,645 answers, while silhouette kept
    rising with k and so could not choose it; the codes' recovery and ranking chose (CODES_PER_ROOT).
    """
    return int(np.clip(round(per_root * math.sqrt(n_units)), 2, MAX_THEMES)) if n_units >= 4 else 1


def outlier_cutoff(scores: np.ndarray, outlier_std: float = OUTLIER_STD) -> float:
    """The similarity to its centre under which a unit belongs to no theme well: ``outlier_std`` standard deviations
    below its units' mean (no cutoff for a theme of two units or fewer)."""
    return float(scores.mean() - outlier_std * scores.std()) if len(scores) > 2 else -1.0


def min_theme_size(n_units: int) -> int:
    return max(2, round(0.004 * n_units))


class ThemeFeatures:
    """Sentence embedding joined with an SVD of lemma TF-IDF, each half unit-normalised."""

    def fit(self, lemmas: list[str]) -> ThemeFeatures:
        n = len(lemmas)
        self.tfidf_ = learn.TfidfVectorizer(min_df=2 if n >= 50 else 1, ngram_range=(1, 2), sublinear_tf=True)
        try:
            counts = self.tfidf_.fit_transform(lemmas)
        except ValueError:  # no shared vocabulary at all: sentence embeddings alone
            self.tfidf_ = None
            return self
        dims = min(SVD_DIMENSIONS, counts.shape[1] - 1, n - 1)
        self.svd_ = learn.TruncatedSVD(dims, random_state=0).fit(counts) if dims >= 2 else None
        return self

    def transform(self, embeddings: np.ndarray, lemmas: list[str]) -> np.ndarray:
        """float32 filled in place: half the memory KMeans streams through, and no float64 copy of the
        whole matrix (at 200,000 units each copy is 1 GB); cosines need no more precision."""
        semantic = learn.normalize(np.asarray(embeddings, dtype=np.float32))
        if self.tfidf_ is None or self.svd_ is None:
            return semantic
        features = np.empty((len(lemmas), semantic.shape[1] + self.svd_.n_components), dtype=np.float32)
        features[:, : semantic.shape[1]] = semantic
        del semantic
        features[:, -self.svd_.n_components :] = learn.normalize(self.svd_.transform(self.tfidf_.transform(lemmas)))
        return learn.normalize(features, copy=False)


class ThemeModel(learn.Estimator):
    """fit: learn themes from units; transform: place new units in them (next wave, review).

    ``clusterer`` is a registered backend name (``CLUSTERERS``) or an object with the ``ClusteringBackend``
    protocol; it is resolved at ``fit`` into ``clusterer_``, scikit-learn style.
    """

    def __init__(
        self, n_themes: int | None = None, random_state: int = 0, clusterer: str | ClusteringBackend = DEFAULT_CLUSTERER
    ):
        self.n_themes = n_themes
        self.random_state = random_state
        self.clusterer = clusterer

    def fit(self, embeddings: np.ndarray, lemmas: list[str], seeds: Seeds | None = None) -> ThemeModel:
        if len(lemmas) > FIT_SAMPLE:
            rows = np.sort(np.random.default_rng(self.random_state).choice(len(lemmas), FIT_SAMPLE, replace=False))
            embeddings, lemmas = embeddings[rows], [lemmas[i] for i in rows]
        n = len(lemmas)
        self.features_ = ThemeFeatures().fit(lemmas)
        x = self.features_.transform(embeddings, lemmas)
        n_seeds = len(seeds.lemmas) if seeds else 0
        # Codebook themes take k-means centres of their own; the corpus still gets room for new themes.
        room = theme_count(n, CODEBOOK_CODES_PER_ROOT if n_seeds else CODES_PER_ROOT)
        k = min(n, self.n_themes or room + max(0, n_seeds - room // 2))
        seed_x = self.features_.transform(seeds.embeddings, seeds.lemmas) if seeds else None
        self.clusterer_ = make_clusterer(self.clusterer)
        centres, labels = self.clusterer_.fit(x, k, seed_x, self.random_state)
        centres, labels = learn.normalize(centres), np.array(labels)  # a copy: the backend may keep its own
        centres, labels = self._drop_small(x, centres, labels, min_theme_size(n))
        self.centres_ = centres
        scores = np.einsum("ij,ij->i", x, centres[labels])
        self.cutoffs_ = np.array([outlier_cutoff(scores[labels == c]) for c in range(len(centres))])
        self.codebook_match_ = self._match_codebook(seed_x, centres) if seed_x is not None else {}
        return self

    @staticmethod
    def _drop_small(x, centres, labels, min_size):
        sizes = np.bincount(labels, minlength=len(centres))
        keep = np.flatnonzero(sizes >= min_size)
        if len(keep) == len(centres) or len(keep) == 0:
            return centres, labels
        centres = centres[keep]
        return centres, np.argmax(x @ centres.T, axis=1)

    @staticmethod
    def _match_codebook(seed_x: np.ndarray, centres: np.ndarray) -> dict[int, int]:
        """Cluster index -> codebook index.

        First one to one, for pairs that stayed close; then a cluster left over joins the codebook
        theme it is clearly nearest to, since k-means often splits a large expected theme in two.
        """
        similarity = seed_x @ centres.T
        rows, cols = learn.linear_sum_assignment(-similarity)
        match = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if similarity[r, c] >= MIN_CODEBOOK_SIMILARITY}
        if len(seed_x) < 2:
            return match
        for cluster in sorted(set(range(len(centres))) - set(match)):
            second, best = np.argsort(similarity[:, cluster])[-2:]
            margin = similarity[best, cluster] - similarity[second, cluster]
            if similarity[best, cluster] >= MIN_EXTRA_SIMILARITY and margin >= MIN_EXTRA_MARGIN:
                match[cluster] = int(best)
        return match

    def similarities(self, embeddings: np.ndarray, lemmas: list[str]) -> np.ndarray:
        """Cosine of each unit to each cluster centre, in slices the size of the fit sample: placing all units
        takes no more memory than learning did."""
        starts = range(0, max(len(lemmas), 1), FIT_SAMPLE)
        return np.vstack(
            [
                self.features_.transform(embeddings[s : s + FIT_SAMPLE], lemmas[s : s + FIT_SAMPLE]) @ self.centres_.T
                for s in starts
            ]
        )

    def transform(self, embeddings: np.ndarray, lemmas: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cluster index per unit (-1 for "Autres") and the cosine to its centre."""
        return self.assign(self.similarities(embeddings, lemmas))

    def assign(self, similarity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``transform`` from similarities already computed: features are the costly part at scale."""
        labels = np.argmax(similarity, axis=1)
        scores = similarity[np.arange(len(labels)), labels]
        return np.where(scores < self.cutoffs_[labels], -1, labels), scores


def keywords_by_cluster(
    units: Sequence[IdeaUnit], labels: np.ndarray, stop_words: set[str], top_n: int = 10
) -> dict[int, list[str]]:
    """BERTopic's class-based TF-IDF on the lemmas of the clusters we give it (outliers are -1), keeping the
    ``top_n`` best keywords a reader recognises (``pipeline.labels.readable_keyword``)."""
    learn.load("bertopic")  # its import brings scikit-learn's
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    vectorizer = learn.CountVectorizer(stop_words=sorted(stop_words), ngram_range=(1, 2), token_pattern=r"(?u)\b\w[\w'-]+\b")
    model = BERTopic(
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=vectorizer,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=top_n * KEYWORD_POOL,
        language="french",  # "english" would strip every accented letter before counting
        calculate_probabilities=False,
    )
    # BERTopic needs embeddings only to pick its own representative docs; ours are chosen in rank.
    model.fit([u.lemmas for u in units], embeddings=np.zeros((len(units), 1)), y=labels)
    renamed = dict(zip(labels.tolist(), model.topics_, strict=True))  # BERTopic renumbers by size
    written = written_words(u.text for u in units)

    def readable(theirs: int) -> list[str]:
        found = [word for word, score in (model.get_topic(theirs) or []) if word and score > 0]
        return [word for word in found if readable_keyword(word, written)][:top_n]

    return {ours: readable(theirs) for ours, theirs in renamed.items()}


def stable_theme_id(keywords: list[str]) -> str:
    """The same theme found again gets the same id, whatever its cluster number."""
    return "t-" + hashlib.sha1(" ".join(sorted(keywords[:5])).encode()).hexdigest()[:8]


def stop_words_for(domain: Iterable[str] = ()) -> set[str]:
    """French stop words and filler, plus ``domain``: the words of the question itself, which every answer
    repeats and which so name no theme."""
    from spacy.lang.fr.stop_words import STOP_WORDS

    # elided forms ("qu'", "l'") as the vectorizer tokenises them
    elided = {w.split("'")[0] for w in STOP_WORDS if "'" in w}
    return set(STOP_WORDS) | elided | FILLER_WORDS | set(domain)


def _runner_up(similarity, labels, merged, theme_ids) -> tuple[list[str | None], list[float | None]]:
    """For each unit, the closest theme other than its own and the cosine to it."""
    theme_of = [theme_ids.get(merged.get(c, c)) for c in range(similarity.shape[1])]
    order = np.argsort(-similarity, axis=1)
    ids: list[str | None] = []
    scores: list[float | None] = []
    for i, own in enumerate(labels.tolist()):
        own_id = theme_ids[own]
        second = next((c for c in order[i] if theme_of[c] not in (own_id, None)), None)
        ids.append(theme_of[second] if second is not None else None)
        scores.append(round(float(similarity[i, second]), 4) if second is not None else None)
    return ids, scores


def find_themes(
    units: list[IdeaUnit],
    embeddings: np.ndarray,
    codebook: Codebook | None = None,
    seeds: Seeds | None = None,
    n_themes: int | None = None,
    clusterer: str | ClusteringBackend = DEFAULT_CLUSTERER,
    stop_words: Iterable[str] = (),
    random_state: int = 0,
) -> ClusterResult:
    """Cluster the units and name each theme by its codebook entry, else by its most characteristic phrase.

    ``clusterer``: a registered backend name (``pipeline.clusterers.CLUSTERERS``) or a backend object.
    ``stop_words``: the question's own vocabulary, kept out of keywords beside the codebook's ``stop_words``.
    ``random_state``: the seed of the theme model's k-means (and of its sample of a large input)."""
    domain_words = sorted({*(codebook.stop_words if codebook else ()), *stop_words})
    lemmas = [u.lemmas for u in units]
    model = ThemeModel(n_themes, random_state, clusterer).fit(embeddings, lemmas, seeds)
    similarity = model.similarities(embeddings, lemmas)
    labels, scores = model.assign(similarity)
    # clusters matched to one codebook theme become one theme, named after its first cluster
    first_of_entry: dict[int, int] = {}
    for cluster, entry in sorted(model.codebook_match_.items()):
        first_of_entry.setdefault(entry, cluster)
    merged = {cluster: first_of_entry[entry] for cluster, entry in model.codebook_match_.items()}
    labels = np.array([merged.get(c, c) for c in labels.tolist()])
    keywords = keywords_by_cluster(units, labels, stop_words_for(domain_words))
    unnamed = [c for c in set(labels.tolist()) if c != -1 and not (codebook and c in model.codebook_match_)]
    phrase_labels = PhraseLabeller().label(units, labels, scores, unnamed)
    theme_ids: dict[int, str] = {}
    themes: list[Theme] = []
    for cluster in sorted(set(labels.tolist())):
        words = keywords.get(cluster, [])
        if cluster == -1:
            theme = Theme(OTHER_ID, OTHER_LABEL, words)
        elif codebook and cluster in model.codebook_match_:
            entry = codebook.themes[model.codebook_match_[cluster]]
            theme = Theme(entry.theme_id, entry.label, words, from_codebook=True)
        else:
            theme_id = stable_theme_id(words)
            while theme_id in theme_ids.values():  # same keywords twice: keep ids distinct, deterministically
                theme_id += "x"
            theme = Theme(theme_id, phrase_labels[cluster], words)
        theme_ids[cluster] = theme.theme_id
        themes.append(theme)
    runner_up, runner_up_score = _runner_up(similarity, labels, merged, theme_ids)
    assignments = [
        Assignment(unit.unit_id, theme_ids[int(label)], round(float(score), 4), second, second_score)
        for unit, label, score, second, second_score in zip(units, labels, scores, runner_up, runner_up_score, strict=True)
    ]
    parameters = {
        "n_units": len(units),
        "fit_sample": min(len(units), FIT_SAMPLE),
        "n_clusters": len(model.centres_),
        "min_theme_size": min_theme_size(min(len(units), FIT_SAMPLE)),  # as applied: to the units learned on
        "outlier_std": OUTLIER_STD,
        "svd_dimensions": SVD_DIMENSIONS,
        "codebook_themes": len(codebook.themes) if codebook else 0,
        "codebook_themes_found": len(first_of_entry),
        "stop_words": domain_words,  # the reviewed export computes keywords again with them
    }
    return ClusterResult(themes=themes, assignments=assignments, parameters=parameters)
