"""Records that cross stage boundaries.

Stages hand each other these plain dataclasses (and numpy arrays) rather than data frames so that
each boundary is explicit and the later review store can persist them one to one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Units that fit no theme well go to this explicit theme, ranked last whatever its size.
OTHER_ID = "autres"
OTHER_LABEL = "Autres"


@dataclass(frozen=True)
class Response:
    """One row of the input: a respondent's answer and the other columns as segments."""

    respondent_id: str
    text: str
    segments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdeaUnit:
    """One idea of an answer: the unit that is embedded, clustered and quoted."""

    unit_id: str
    respondent_id: str
    text: str  # original wording, normalised and with personal data masked
    lemmas: str  # content lemmas (no stop words), for TF-IDF features and keywords


@dataclass(frozen=True)
class Excluded:
    """An answer set aside, with the reason, so that nothing is silently lost."""

    respondent_id: str
    text: str
    reason: str  # "kind (detail)", e.g. 'non-réponse ("RAS")' (pipeline.messages)

    @property
    def kind(self) -> str:
        """The reason without its detail, for counting reasons."""
        return self.reason.split(" (")[0]


@dataclass
class Dataset:
    """What ingest hands on: the responses and what was guessed about the file."""

    responses: list[Response]
    text_column: str
    id_column: str | None
    segment_columns: list[str]
    notes: list[str]
    input_sha256: str


@dataclass
class CleanResult:
    units: list[IdeaUnit]
    excluded: list[Excluded]


@dataclass
class Theme:
    """A theme as ranked and exported."""

    theme_id: str
    label: str
    keywords: list[str]
    rank: int = 0
    n_units: int = 0
    n_respondents: int = 0
    share: float = 0.0  # of respondents with at least one kept idea unit
    quotes: list[str] = field(default_factory=list)
    segments: dict[str, dict[str, float]] = field(default_factory=dict)
    # respondents per segment value, the denominators of ``segments``: what intervals and tests need
    segment_bases: dict[str, dict[str, int]] = field(default_factory=dict)
    from_codebook: bool = False
    proposed: bool = False  # a new theme from units the trained model was unsure of, for review
    change_pts: float | None = None  # share change against the previous wave, in percentage points
    net_id: str = ""  # the net (broader theme) this code rolls up into, as coders build code frames
    net_label: str = ""
    coherence: float | None = None  # how tightly its units agree, relative to the corpus
    mixed: bool = False  # still incoherent after refinement: ranked below every coherent theme
    # A classified wave against the previous one (``pipeline.significance.wave_changes``): the previous share and its
    # base, the change's Benjamini-Hochberg p-value over the wave's themes (None: not tested, a base under MIN_BASE)
    previous_share: float | None = None
    previous_base: int = 0
    change_p: float | None = None
    change_significant: bool = False


@dataclass(frozen=True)
class Assignment:
    unit_id: str
    theme_id: str
    score: float  # cosine similarity of the unit to its theme's centre (a probability after classify)
    runner_up_id: str | None = None  # the next closest theme: a small margin marks a unit worth reviewing
    runner_up_score: float | None = None


@dataclass
class ClusterResult:
    themes: list[Theme]
    assignments: list[Assignment]
    parameters: dict[str, object]
