"""What a review action acts on: a run's themes and labels as reviewers see them now, and the errors of a
correction that cannot apply as asked."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import ConflictError, InputError, NotFoundError


class ReviewError(InputError):
    """A correction that cannot apply as asked; the message says what to change."""


class UnknownItemError(ReviewError, NotFoundError):
    """The correction names a theme or idea unit the run does not have."""


class StaleViewError(ReviewError, ConflictError):
    """The reviewer's view is older than a correction that touched the same items."""


@dataclass
class ThemeState:
    theme_id: str
    label: str
    keywords: list[str]
    from_codebook: bool = False
    proposed: bool = False
    coherence: float | None = None
    mixed: bool = False
    origin: str = "machine"  # or "review": created by a split or a move to a new theme
    net_id: str = ""  # the net it rolls up into; "" until set: the theme alone (``RunState.net_of``)
    net_label: str = ""


@dataclass
class RunState:
    """A run as reviewers see it now."""

    run_id: str
    version: int = 0  # seq of the last event
    themes: dict[str, ThemeState] = field(default_factory=dict)  # active themes only
    labels: dict[str, list[str]] = field(default_factory=dict)  # unit -> theme ids, first is primary
    off_topic: set[str] = field(default_factory=set)
    reviewed: set[str] = field(default_factory=set)  # units a reviewer set or confirmed one by one
    merged_into: dict[str, str] = field(default_factory=dict)
    renetted: bool = False  # a reviewer changed the nets: they are the state's, no longer recomputed

    def members(self, theme_id: str) -> list[str]:
        return [u for u, themes in self.labels.items() if theme_id in themes]

    def resolve(self, theme_id: str | None) -> str | None:
        """A theme id after the merges since it was read (the queue's runner-up may have been merged)."""
        while theme_id in self.merged_into:
            theme_id = self.merged_into[theme_id]
        return theme_id

    def net_of(self, theme_id: str) -> tuple[str, str]:
        """A theme's net (id, label); a theme with none (a run recorded before nets) is its own net."""
        theme = self.themes[theme_id]
        return theme.net_id or theme_id, theme.net_label or theme.label

    def nets(self) -> dict[str, list[str]]:
        """Net id -> its codes (active themes), in the order of ``themes``."""
        nets: dict[str, list[str]] = {}
        for theme_id in self.themes:
            nets.setdefault(self.net_of(theme_id)[0], []).append(theme_id)
        return nets

    def put_in_net(self, theme_ids: list[str], net_id: str, label: str) -> None:
        for theme_id in theme_ids:
            self.themes[theme_id].net_id, self.themes[theme_id].net_label = net_id, label

    def snapshot(self, keys: list[str]) -> dict[str, object]:
        shot: dict[str, object] = {}
        nets = self.nets() if any(key.startswith("net:") for key in keys) else {}
        for key in keys:
            kind, ident = key.split(":", 1)
            if kind == "unit":
                shot[key] = {"themes": list(self.labels.get(ident, [])), "off_topic": ident in self.off_topic}
            elif kind == "net":
                codes = nets.get(ident, [])
                shot[key] = {"label": self.net_of(codes[0])[1], "themes": codes} if codes else {"themes": []}
            else:
                theme = self.themes.get(ident)
                if theme:
                    shot[key] = {"label": theme.label, "net": self.net_of(ident)[0]}
                else:
                    shot[key] = {"merged_into": self.merged_into.get(ident)}
        return shot
