"""Registries by name, spaCy-style: ``@REGISTRY.register("name")`` adds an entry, and a command-line or
settings string picks it. Adding an embedder or a clustering backend is then one decorated definition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from pipeline.errors import InputError
from pipeline.messages import say

T = TypeVar("T")


class Registry(dict[str, T], Generic[T]):
    """A plain ``dict`` of name -> entry (callers may read it as one) that knows what it holds, for its errors."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: file the decorated function or class under ``name`` and return it unchanged."""

        def add(entry: T) -> T:
            self[name] = entry
            return entry

        return add

    def lookup(self, name: str) -> T:
        """The entry named ``name``; an unknown name is the user's to fix, so the error lists the known ones."""
        if name not in self:
            raise InputError(say("registry.unknown", kind=self.kind, name=name, names=", ".join(sorted(self))))
        return self[name]
