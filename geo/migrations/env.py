"""Alembic's environment: migrate the engine :func:`geo.db.upgrade` hands over, in one transaction.

Two processes starting at once (two replicas) migrate one after the other: on SQLite the transaction holds
the write lock from its start, on PostgreSQL it takes an advisory lock first.
"""

from alembic import context

engine = context.config.attributes["engine"]

with engine.execution_options(write=True).connect() as connection:
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7215015)")
        context.run_migrations()
