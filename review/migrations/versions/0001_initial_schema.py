"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 21:08:39.972746
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("training_sha256", sa.String(length=64), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("codebook", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("input_file", sa.Text(), nullable=False),
        sa.Column("input_sha256", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("embedder", sa.Text(), nullable=False),
        sa.Column("segment_columns", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=True),
        sa.Column("previous_run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_input_sha256"), ["input_sha256"], unique=False)

    op.create_table(
        "excluded",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "position"),
    )
    op.create_table(
        "model_promotions",
        sa.Column("promotion_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["models.version"],
        ),
        sa.PrimaryKeyConstraint("promotion_id"),
    )
    op.create_table(
        "respondents",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("respondent_id", sa.String(length=200), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "respondent_id"),
    )
    op.create_table(
        "review_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("touched", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id"),
        sa.UniqueConstraint("run_id", "seq", name="uq_review_events_run_seq"),
    )
    with op.batch_alter_table("review_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_events_run_id"), ["run_id"], unique=False)

    op.create_table(
        "themes",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("theme_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("from_codebook", sa.Boolean(), nullable=False),
        sa.Column("proposed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "theme_id"),
    )
    op.create_table(
        "units",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=220), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lemmas", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "unit_id"),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_text_key"), ["text_key"], unique=False)

    op.create_table(
        "assignments",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=220), nullable=False),
        sa.Column("theme_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("runner_up_id", sa.String(length=64), nullable=True),
        sa.Column("runner_up_score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id", "unit_id"], ["units.run_id", "units.unit_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "unit_id", "theme_id"),
    )


def downgrade() -> None:
    op.drop_table("assignments")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_text_key"))

    op.drop_table("units")
    op.drop_table("themes")
    with op.batch_alter_table("review_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_events_run_id"))

    op.drop_table("review_events")
    op.drop_table("respondents")
    op.drop_table("model_promotions")
    op.drop_table("excluded")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_input_sha256"))

    op.drop_table("runs")
    op.drop_table("models")
