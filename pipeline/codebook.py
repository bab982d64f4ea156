"""Codebooks: the themes an analyst expects, which guide clustering and name the themes found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipeline.errors import InputError, NotFoundError
from pipeline.messages import say

if TYPE_CHECKING:
    import numpy as np

    from pipeline.embed import Embedder


@dataclass(frozen=True)
class CodebookTheme:
    theme_id: str
    label: str
    description: str = ""
    seed_words: tuple[str, ...] = ()
    net: str = ""  # the net (broader theme) this code rolls up into, by its label; empty: grouped automatically

    @property
    def document(self) -> str:
        """What is embedded and lemmatised to place the theme among the answers."""
        return ". ".join(p for p in (self.label, self.description, ", ".join(self.seed_words)) if p)


@dataclass(frozen=True)
class Seeds:
    """Codebook themes placed in the answers' space: their embeddings and lemmas."""

    embeddings: np.ndarray
    lemmas: list[str]


@dataclass(frozen=True)
class Codebook:
    themes: tuple[CodebookTheme, ...]
    question: str = ""
    stop_words: tuple[str, ...] = field(default=())

    @property
    def nets(self) -> dict[str, str]:
        """Theme id -> the net label its ``net:`` names, for the themes that name one."""
        return {theme.theme_id: theme.net for theme in self.themes if theme.net}


def load_codebook(path: Path) -> Codebook:
    """YAML with ``themes: [{id, label, description, seed_words, net}]`` and optional ``question``, ``stop_words``.

    ``net`` (optional) is the label of the net the theme rolls up into; themes naming one label share a net."""
    if not path.exists():
        raise NotFoundError(say("codebook.not_found", path=path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(say("codebook.not_yaml", name=path.name, error=exc)) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("themes"), list) or not raw["themes"]:
        raise InputError(say("codebook.no_themes", name=path.name))
    themes, seen = [], set()
    for n, item in enumerate(raw["themes"], start=1):
        if not isinstance(item, dict) or not item.get("id") or not item.get("label"):
            raise InputError(say("codebook.theme_needs", name=path.name, n=n))
        theme_id = str(item["id"])
        if theme_id in seen:
            raise InputError(say("codebook.twice", name=path.name, theme_id=theme_id))
        seen.add(theme_id)
        seeds = item.get("seed_words") or []
        if not isinstance(seeds, list):
            raise InputError(say("codebook.seeds_list", name=path.name, theme_id=theme_id))
        description, net = str(item.get("description") or ""), str(item.get("net") or "").strip()
        themes.append(CodebookTheme(theme_id, str(item["label"]), description, tuple(map(str, seeds)), net))
    return Codebook(
        themes=tuple(themes),
        question=str(raw.get("question") or ""),
        stop_words=tuple(str(w) for w in raw.get("stop_words") or ()),
    )


def load_stop_words(path: Path) -> tuple[str, ...]:
    """A question's own vocabulary, kept out of theme keywords: words separated by lines, spaces or commas;
    ``#`` starts a comment."""
    if not path.is_file():
        raise NotFoundError(say("stop_words.not_found", path=path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(say("stop_words.not_utf8", name=path.name, error=exc)) from exc
    words = (w for line in text.splitlines() for w in line.split("#", 1)[0].replace(",", " ").split())
    return tuple(dict.fromkeys(w.casefold() for w in words))


def codebook_seeds(codebook: Codebook, embedder: Embedder) -> Seeds:
    """Embed and lemmatise each theme's label, description and seed words like an answer."""
    from pipeline.clean import lemmatize
    from pipeline.embed import embed

    documents = [theme.document for theme in codebook.themes]
    vectors, _ = embed(documents, embedder)
    return Seeds(embeddings=vectors, lemmas=lemmatize(documents))
