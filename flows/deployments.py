"""The scheduled deployments analysts see in the Prefect UI, served from this repository.

Run by ``verbatims serve-flows`` (``make serve-flows``), which starts a local Prefect server first. Each
deployment's parameters can be changed in the UI for one run or for good; the schedules are Paris time.
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron, Interval

from flows.analyze import analyze_verbatims
from flows.classify import classify_wave
from flows.inbox import watch_inbox
from flows.retrain import retrain_from_reviews
from pipeline.messages import say
from review.inbox import INCOMING

TIMEZONE = "Europe/Paris"
SAMPLE = "data/verbatims/panorama_culture_client_2025"
# The 1st of each month: retrain on last month's reviews at 05:00, then analyse and classify at 06:00.
MONTHLY_RETRAIN = "0 5 1 * *"
MONTHLY_ANALYSIS = "0 6 1 * *"
INBOX_EVERY_SECONDS = 300


def deployments() -> list:
    codebook = f"{SAMPLE}.codebook.yaml"
    return [
        analyze_verbatims.to_deployment(
            name="monthly",
            description=say("deployment.analyze"),
            schedule=Cron(MONTHLY_ANALYSIS, timezone=TIMEZONE),
            parameters={"input_path": f"{SAMPLE}.csv", "codebook_path": codebook},
            tags=["verbatims"],
        ),
        classify_wave.to_deployment(
            name="monthly",
            description=say("deployment.classify"),
            schedule=Cron(MONTHLY_ANALYSIS, timezone=TIMEZONE),
            parameters={"input_path": f"{SAMPLE}.csv"},
            tags=["verbatims"],
        ),
        retrain_from_reviews.to_deployment(
            name="monthly",
            description=say("deployment.retrain"),
            schedule=Cron(MONTHLY_RETRAIN, timezone=TIMEZONE),
            parameters={"codebook_path": codebook},
            tags=["verbatims"],
        ),
        watch_inbox.to_deployment(
            name="incoming",
            description=say("deployment.inbox", folder=INCOMING),
            schedule=Interval(INBOX_EVERY_SECONDS, timezone=TIMEZONE),
            parameters={"folder": str(INCOMING), "codebook_path": codebook},
            tags=["verbatims"],
        ),
    ]


if __name__ == "__main__":
    serve(*deployments())
