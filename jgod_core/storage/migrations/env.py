"""Alembic environment of the J-GOD store.

Run programmatically by :mod:`jgod_core.storage.migrate`, which passes an open connection in
``config.attributes["connection"]``; offline (SQL script) mode is not used.
"""

from __future__ import annotations

from alembic import context

from jgod_core.storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by jgod_core.storage.migrate
    raise RuntimeError("run J-GOD migrations through jgod_core.storage.migrate (it passes the connection)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
