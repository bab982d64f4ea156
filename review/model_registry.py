"""Versioned theme models: files under ``models/`` (``VERBATIMS_MODELS``), metadata and promotions in the store.

Promotions are append-only. Replaying them gives a stack: a promotion pushes a version, a rollback pops
back to the one promoted before it, so rolling back twice goes two steps back instead of flip-flopping.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import joblib
from joblib.numpy_pickle import NumpyUnpickler
from sqlalchemy import func, select

from pipeline import learn, settings
from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say
from review.store import ModelRow, PromotionRow, Store

ROLLBACK = "rollback"


def models_dir() -> Path:
    return settings.current().models


@dataclass
class SavedModel:
    """What a trained model needs beside its weights to be applied to a new wave."""

    classifier: object  # review.train.ThemeClassifier
    theme_labels: dict[str, str]
    embedder: str
    training_keys: frozenset[str]  # text_key of every unit it learnt from: only other units can judge it fairly
    stop_words: tuple[str, ...] = ()  # the question's vocabulary, kept out of proposed themes' keywords
    # (theme id, net id, net label): each known theme's net as reviewed; a model saved before nets has none
    theme_nets: tuple[tuple[str, str, str], ...] = ()

    def nets(self) -> dict[str, tuple[str, str]]:
        """Theme id -> (net id, net label), as reviewed in the runs it learnt from."""
        return {theme_id: (net_id, label) for theme_id, net_id, label in self.theme_nets}

    def named_nets(self) -> dict[str, str]:
        """Theme id -> net label: what ``Analysis(named_nets=)`` takes so a new wave keeps the reviewed nets."""
        return {theme_id: label for theme_id, (_, label) in self.nets().items()}


def save_model(
    store: Store,
    model: SavedModel,
    metrics: dict,
    training_sha256: str,
    n_items: int,
    runs: list[str],
    codebook: dict | None,
) -> ModelRow:
    with store.session() as session:
        number = (session.scalar(select(func.count()).select_from(ModelRow)) or 0) + 1
        version = f"v{number}"
        while session.get(ModelRow, version) is not None:
            number += 1
            version = f"v{number}"
        path = models_dir() / f"theme-model-{version}.joblib"
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(model, path)
        row = ModelRow(
            version=version,
            path=str(path),
            metrics=metrics,
            training_sha256=training_sha256,
            n_items=n_items,
            runs=runs,
            codebook=codebook,
        )
        session.add(row)
    return row


def _stack(session) -> list[str]:
    stack: list[str] = []
    for row in session.scalars(select(PromotionRow).order_by(PromotionRow.promotion_id)):
        if row.reason.startswith(ROLLBACK):
            stack.pop()
        else:
            stack.append(row.version)
    return stack


def promoted_version(store: Store) -> str | None:
    with store.session() as session:
        stack = _stack(session)
    return stack[-1] if stack else None


def promote(store: Store, version: str, by: str, reason: str = "promoted") -> None:
    with store.session() as session:
        if session.get(ModelRow, version) is None:
            raise NotFoundError(say("model.unknown", version=version))
        stack = _stack(session)
        if stack and stack[-1] == version:
            raise InputError(say("model.already", version=version))
        session.add(PromotionRow(version=version, by=by, reason=reason))


def rollback(store: Store, by: str) -> str:
    """Go back to the model promoted before the current one; returns it."""
    with store.session() as session:
        stack = _stack(session)
        if len(stack) < 2:
            raise InputError(say("model.no_rollback"))
        session.add(PromotionRow(version=stack[-2], by=by, reason=f"{ROLLBACK} from {stack[-1]}"))
    return stack[-2]


def list_models(store: Store) -> tuple[list[ModelRow], str | None]:
    with store.session() as session:
        rows = list(session.scalars(select(ModelRow).order_by(ModelRow.created_at)))
        stack = _stack(session)
    return rows, (stack[-1] if stack else None)


def model_row(store: Store, version: str | None = None) -> ModelRow:
    """The given version's metadata (metrics, guard facts), else the promoted one's; the weights stay on disk."""
    version = version or promoted_version(store)
    if version is None:
        raise InputError(say("model.none"))
    with store.session() as session:
        row = session.get(ModelRow, version)
    if row is None:
        raise NotFoundError(say("model.unknown", version=version))
    return row


def load_model(store: Store, version: str | None = None) -> tuple[ModelRow, SavedModel]:
    """The given version, else the promoted one."""
    row = model_row(store, version)
    if not Path(row.path).exists():
        raise InputError(say("model.file_missing", version=row.version, path=row.path))
    with open(row.path, "rb") as handle, learn.importing():  # the classifier imports scikit-learn
        return row, _ModelUnpickler(row.path, handle, ensure_native_byte_order="auto").load()


# Models saved before the layout of issue 14 name their classes by the modules they lived in then.
_MOVED = {
    ("pipeline.registry", "SavedModel"): "review.model_registry",
    ("pipeline.train", "ThemeClassifier"): "review.train",
    ("pipeline.cluster", "ThemeFeatures"): "pipeline.themes",
}


class _ModelUnpickler(NumpyUnpickler):
    """joblib's own unpickler (its arrays are stored beside the pickle stream), reading the classes of models
    saved before the move at their new places; ``joblib.load`` takes no such mapping."""

    def find_class(self, module: str, name: str):
        return super().find_class(_MOVED.get((module, name), module), name)
