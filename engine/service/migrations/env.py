"""Alembic's environment: migrations run on the connection the service hands over."""

from alembic import context

from invswarm.engine.service.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
