"""Tests use the real spaCy model, the real USE embedder and a real Prefect (test harness).

Caches and Prefect's home go to a temporary folder so tests never read a developer's state.
"""

import os
import tempfile
from pathlib import Path

_STATE = Path(tempfile.mkdtemp(prefix="verbatims-tests-"))
os.environ["VERBATIMS_CACHE"] = str(_STATE / "cache")
os.environ["PREFECT_HOME"] = str(_STATE / "prefect")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

import pytest  # noqa: E402

from pipeline.clean import clean  # noqa: E402
from pipeline.codebook import codebook_seeds, load_codebook  # noqa: E402
from pipeline.embed import embed, load_embedder  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data" / "verbatims"
SAMPLE = DATA / "panorama_culture_client_2025.csv"
CODEBOOK = DATA / "panorama_culture_client_2025.codebook.yaml"
GOLD = DATA / "panorama_culture_client_2025.gold.csv"


@pytest.fixture(scope="session")
def sample_dataset():
    return ingest(SAMPLE)


@pytest.fixture(scope="session")
def sample_clean(sample_dataset):
    return clean(sample_dataset)


@pytest.fixture(scope="session")
def sample_vectors(sample_clean):
    vectors, _ = embed([u.text for u in sample_clean.units], load_embedder())
    return vectors


@pytest.fixture(scope="session")
def codebook():
    return load_codebook(CODEBOOK)


@pytest.fixture(scope="session")
def seeds(codebook):
    return codebook_seeds(codebook, load_embedder())


@pytest.fixture(scope="session")
def gold():
    import pandas as pd

    frame = pd.read_csv(GOLD, dtype=str).fillna("")
    return {rid: set(themes.split("; ")) for rid, themes in zip(frame.id, frame.themes, strict=True)}
