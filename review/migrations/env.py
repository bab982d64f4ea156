"""Alembic environment: the store passes its open connection; the models give the target schema."""

from alembic import context

from review.store import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
