"""agreement between coders: units given to two reviewers to code blind, and their blind codings

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "double_coding",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=220), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["run_id", "unit_id"], ["units.run_id", "units.unit_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "unit_id", "reviewer"),
    )
    op.create_table(
        "blind_codings",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=220), nullable=False),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("coded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "unit_id", "reviewer"],
            ["double_coding.run_id", "double_coding.unit_id", "double_coding.reviewer"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "unit_id", "reviewer"),
    )


def downgrade() -> None:
    op.drop_table("blind_codings")
    op.drop_table("double_coding")
