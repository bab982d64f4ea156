"""themes keep their coherence and whether they are still mixed

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("themes") as table:  # batch: SQLite cannot add a column with a default otherwise
        table.add_column(sa.Column("coherence", sa.Float(), nullable=True))
        table.add_column(sa.Column("mixed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("themes") as table:
        table.drop_column("mixed")
        table.drop_column("coherence")
