"""Bulk upserts for SQLite and PostgreSQL (``INSERT … ON CONFLICT DO UPDATE``).

A row whose values already equal the stored ones is left untouched (the ``DO UPDATE`` has a
``WHERE`` that compares every value column null-safely), so reloading the same data writes
nothing and ``updated_at`` keeps telling when a row last changed.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Table, UniqueConstraint, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

CHUNK_ROWS = 20_000
_NOT_COMPARED = {"updated_at", "computed_at", "created_at"}


def conflict_columns(table: Table) -> list[str]:
    """The natural key of ``table``: its first unique constraint, else a unique column, else the primary key."""
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            return [c.name for c in constraint.columns]
    for column in table.columns:
        if column.unique:
            return [column.name]
    return [c.name for c in table.primary_key.columns]


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows of ``frame`` as dicts with NaN/NaT turned into None and numpy scalars into Python ones."""
    if frame.empty:
        return []
    clean = frame.astype(object).where(pd.notna(frame), None)
    out = clean.to_dict("records")
    for row in out:
        for key, value in row.items():
            if isinstance(value, np.generic):
                row[key] = value.item()
            elif isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
    return out


def upsert(conn: Connection, table: Table, rows: pd.DataFrame | Sequence[dict]) -> int:
    """Insert or update ``rows`` into ``table`` on its natural key; returns rows inserted or changed."""
    data = records(rows) if isinstance(rows, pd.DataFrame) else list(rows)
    if not data:
        return 0
    keys = conflict_columns(table)
    columns = list(data[0].keys())
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"table {table.name} has no column(s) {unknown}")
    dialect = conn.dialect.name
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - only the two supported back ends are tested
        raise NotImplementedError(f"bulk upsert is implemented for SQLite and PostgreSQL, not {dialect}")
    updatable = [c for c in columns if c not in keys and c != "id"]
    if updatable:
        compared = [c for c in updatable if c not in _NOT_COMPARED] or updatable
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in updatable},
            where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared]),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    written = 0
    for chunk in _chunks(data, CHUNK_ROWS):
        result = conn.execute(stmt, chunk)
        written += max(result.rowcount or 0, 0)
    return written


def _chunks(data: list[dict], size: int) -> Iterable[list[dict]]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
