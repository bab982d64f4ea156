"""scikit-learn, SciPy and BERTopic, imported when a stage first computes with them, not with the library.

A run whose stages are all cached computes nothing with them, and importing scikit-learn alone took 0.8 s of the
sample's 4.6 s second run (issue 19; `-X importtime`, 2026-11-30). ``learn.KMeans`` and the other names of
``_WHERE`` import their module at first use, and ``load`` any other; both under one lock, because two threads
importing scikit-learn at once can see it half-initialised ("cannot import name 'clone' from partially
initialized module"), as a flow's task and the command's model-loading thread, or two web requests, would. Code
that imports them by itself (unpickling a fitted model, loading a sentence-transformers model) runs in
``importing()``, under the same lock.

``Estimator`` keeps scikit-learn's conventions for our own estimators without importing it.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Self

# name -> the module it is read from; None: the name is that module itself
_WHERE: dict[str, tuple[str, str | None]] = {
    "KMeans": ("sklearn.cluster", "KMeans"),
    "TruncatedSVD": ("sklearn.decomposition", "TruncatedSVD"),
    "CountVectorizer": ("sklearn.feature_extraction.text", "CountVectorizer"),
    "TfidfVectorizer": ("sklearn.feature_extraction.text", "TfidfVectorizer"),
    "LogisticRegression": ("sklearn.linear_model", "LogisticRegression"),
    "f1_score": ("sklearn.metrics", "f1_score"),
    "cohen_kappa_score": ("sklearn.metrics", "cohen_kappa_score"),
    "KFold": ("sklearn.model_selection", "KFold"),
    "OneVsRestClassifier": ("sklearn.multiclass", "OneVsRestClassifier"),
    "MultiLabelBinarizer": ("sklearn.preprocessing", "MultiLabelBinarizer"),
    "normalize": ("sklearn.preprocessing", "normalize"),
    "linear_sum_assignment": ("scipy.optimize", "linear_sum_assignment"),
    "sparse": ("scipy.sparse", None),
}
_LOCK = threading.RLock()  # re-entrant: a module imported under it may import another through ``load``


@contextmanager
def importing() -> Iterator[None]:
    """The lock every import of these libraries here takes, for code that imports them by itself."""
    with _LOCK:
        yield


def load(module: str) -> ModuleType:
    """``module``, imported under that lock."""
    with importing():
        return importlib.import_module(module)


def preload() -> None:
    """Every module of ``_WHERE``, under the lock. A thread may then import a library that brings scikit-learn
    (BERTopic, 5 s) without holding the lock the whole time: the modules the stages reach through here are loaded,
    and a stage that needs one does not wait for that import to end."""
    with importing():
        for module, _ in _WHERE.values():
            importlib.import_module(module)


def __getattr__(name: str) -> Any:
    """A name of ``_WHERE``, imported at its first use and kept (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = load(module) if attribute is None else getattr(load(module), attribute)
    globals()[name] = value
    return value


class Estimator:
    """scikit-learn's estimator conventions, without its import: hyperparameters are ``__init__``'s arguments,
    kept under their own names; ``get_params`` and ``set_params`` read and write them; the repr shows those that
    differ from their defaults, as scikit-learn's does (the flows key cached results on reprs)."""

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        """Hyperparameter -> its default, in ``__init__``'s order."""
        parameters = inspect.signature(cls.__init__).parameters
        return {name: p.default for name, p in parameters.items() if name != "self"}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Hyperparameter -> value (``deep`` is accepted for scikit-learn's signature; the hyperparameters of an
        estimator held as one, as ``ThemeModel.clusterer`` may be, are not listed)."""
        return {name: getattr(self, name) for name in self._defaults()}

    def set_params(self, **params: Any) -> Self:
        unknown = sorted(set(params) - set(self._defaults()))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no hyperparameter {', '.join(unknown)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = self._defaults()
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name, default in defaults.items()
            if repr(getattr(self, name)) != repr(default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"
