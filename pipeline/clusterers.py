"""Clustering backends for ``ThemeModel``, by name or as an object (BERTopic's ``hdbscan_model=`` pattern).

A backend groups the theme features (unit-normalised rows) into about ``k`` clusters and returns their centres
and a label per row; the theme model normalises the centres, drops clusters too small to be themes and names
the rest. Adding a backend is one class under ``@register_clusterer("name")``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from pipeline import learn
from pipeline.registry import Registry


class ClusteringBackend(Protocol):
    def fit(
        self, features: np.ndarray, k: int, seed_centres: np.ndarray | None, random_state: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Centres (one row per cluster, in the features' space) and each row's cluster index.

        ``seed_centres`` are the codebook themes in the same space (None without a codebook): a backend
        should grow a cluster from each, so that the codebook can name them.
        """
        ...


DEFAULT_CLUSTERER = "kmeans"
# Name -> backend class, called without arguments for its defaults.
CLUSTERERS: Registry[type[ClusteringBackend]] = Registry("algorithme de regroupement")
register_clusterer = CLUSTERERS.register


def make_clusterer(clusterer: str | ClusteringBackend) -> ClusteringBackend:
    """A backend from its registered name, or the object itself."""
    return CLUSTERERS.lookup(clusterer)() if isinstance(clusterer, str) else clusterer


@register_clusterer("kmeans")
class KMeansClusterer(learn.Estimator):
    """scikit-learn's KMeans; with codebook themes, a single run started from them (``seeded_centres``)."""

    def __init__(self, n_init: int = 4, single_run_from: int = 5000) -> None:
        # restarts matter less as the corpus grows; each is a full KMeans run (1.5 s at 18,000 units)
        self.n_init = n_init
        self.single_run_from = single_run_from

    def fit(
        self, features: np.ndarray, k: int, seed_centres: np.ndarray | None, random_state: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if seed_centres is not None:
            init = seeded_centres(features, seed_centres, k, np.random.default_rng(random_state))
            kmeans = learn.KMeans(k, init=init, n_init=1, random_state=random_state).fit(features)
        else:
            n_init = self.n_init if len(features) < self.single_run_from else 1
            kmeans = learn.KMeans(k, n_init=n_init, random_state=random_state).fit(features)
        return kmeans.cluster_centers_, kmeans.labels_


def seeded_centres(features: np.ndarray, seeds: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ that starts from the codebook themes instead of a random first centre."""
    centres = list(seeds)
    closest = 1 - np.max(features @ np.array(centres).T, axis=1) if centres else np.full(len(features), 1.0)
    while len(centres) < k:
        weights = np.clip(closest, 0, None) ** 2
        pick = rng.choice(len(features), p=weights / weights.sum()) if weights.sum() > 0 else rng.integers(len(features))
        centres.append(features[pick])
        closest = np.minimum(closest, 1 - features @ features[pick])
    return np.array(centres)
