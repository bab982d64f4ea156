"""retrain_from_reviews: a theme model from every reviewed unit, promoted only when it saw enough reviews
(review.guard) and is not worse than the promoted one; otherwise kept as a candidate."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.params import CodebookFile, DbUrl, RunId
from pipeline.codebook import load_codebook
from pipeline.markdown import md_text
from review.retrain import RetrainReport, retrain
from review.store import Store


@flow(name="retrain_from_reviews", log_prints=True)
def retrain_from_reviews(
    runs: list[RunId] | None = None,
    codebook_path: CodebookFile | None = None,
    db: DbUrl | None = None,
    by: str = "retrain",
) -> RetrainReport:
    """Train on the reviewed units of ``runs`` (default: every reviewed run) plus the codebook.

    Args:
        runs: Reviewed runs to learn from; default every reviewed run.
        codebook_path: YAML codebook whose seed words join the training data.
        db: Review store: a file path or a postgresql:// URL; default VERBATIMS_DB.
        by: Name recorded as the author of the new model version.
    """
    codebook = load_codebook(Path(codebook_path)) if codebook_path else None
    report = retrain(Store(db), runs, codebook, by)
    get_run_logger().info(report.summary)
    create_markdown_artifact(
        key="retrain-report",
        markdown=f"# Réentraînement\n\n{md_text(report.summary)}\n",
        description=f"Modèle de thèmes {report.version}",
    )
    return report
