"""What a run's files are written from: its records, and the tables several formats share, built once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from pipeline.export import assignments_frame, excluded_frame, safe_frame, segments_frame, themes_frame
from pipeline.manifest import Manifest
from pipeline.nets import Net, summarise_nets
from pipeline.records import Assignment, Excluded, IdeaUnit, Response, Theme


@dataclass
class Bundle:
    """Everything a run's files are written from. Tables are built once, on first use, and shared by the
    formats that hold them (themes.csv, themes.xlsx and themes.parquet hold one table)."""

    themes: list[Theme]
    assignments: list[Assignment]
    units: list[IdeaUnit]
    excluded: list[Excluded]
    responses: list[Response]
    manifest: Manifest

    @cached_property
    def nets(self) -> list[Net]:
        """The nets the themes roll up into, ranked, each counting a respondent once."""
        return summarise_nets(self.themes, self.assignments, self.units)

    @cached_property
    def themes_table(self) -> pd.DataFrame:
        return safe_frame(themes_frame(self.themes, self.nets))

    @cached_property
    def segments_table(self) -> pd.DataFrame:
        return safe_frame(segments_frame(self.themes))

    @cached_property
    def assignments_table(self) -> pd.DataFrame:
        return safe_frame(assignments_frame(self.assignments, self.units, self.themes, self.responses))

    @cached_property
    def excluded_table(self) -> pd.DataFrame:
        return safe_frame(excluded_frame(self.excluded))
