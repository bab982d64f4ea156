"""themes keep the machine's net (id and label), the starting point of reviewers' net corrections

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("themes") as table:  # batch: SQLite cannot add a column with a default otherwise
        table.add_column(sa.Column("net_id", sa.String(64), nullable=False, server_default=""))
        table.add_column(sa.Column("net_label", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("themes") as table:
        table.drop_column("net_label")
        table.drop_column("net_id")
