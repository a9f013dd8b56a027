"""Bulk upserts for SQLite and PostgreSQL (``INSERT … ON CONFLICT DO UPDATE``).

A row whose values already equal the stored ones is left untouched (the ``DO UPDATE`` has a
``WHERE`` that compares every value column null-safely), so reloading the same data writes
nothing and ``updated_at`` keeps telling when a row last changed.
"""

from __future__ import annotations

import uuid
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import Table, UniqueConstraint, column, or_, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from jgod_core.errors import JGodError

CHUNK_ROWS = 20_000
COPY_MIN_ROWS = 500
_NOT_COMPARED = {"updated_at", "computed_at", "created_at"}


def conflict_columns(table: Table) -> list[str]:
    """The natural key of ``table``: its first unique constraint, else a unique column, else the primary key."""
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            return [c.name for c in constraint.columns]
    for table_column in table.columns:
        if table_column.unique:
            return [table_column.name]
    return [c.name for c in table.primary_key.columns]


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows of ``frame`` as dicts of plain Python values, NaN/NaT/None as None (column-wise, fast)."""
    if frame.empty:
        return []
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = [None if pd.isna(v) else v.to_pydatetime() for v in series.tolist()]
        else:
            values = series.to_numpy().tolist()
            if series.isna().any():
                values = [None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT else v
                          for v in values]
        columns.append([v.item() if isinstance(v, np.generic) else v for v in values]
                       if series.dtype == object else values)
    names = list(frame.columns)
    return [dict(zip(names, row)) for row in zip(*columns)]


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
    if dialect == "postgresql" and len(data) >= COPY_MIN_ROWS:
        return _upsert_via_copy(conn, table, data, keys, columns)
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:  # pragma: no cover - only the two supported back ends are tested
        raise JGodError(f"the J-GOD store supports SQLite and PostgreSQL, not {dialect}; set JGOD_DB_URL to one of them")
    stmt = _do_update(stmt, table, keys, columns)
    # RETURNING yields one row per inserted or changed row (on both back ends, where executemany
    # rowcounts are unreliable) and lets SQLAlchemy batch rows into multi-row VALUES statements.
    stmt = stmt.returning(table.c[keys[0]])
    written = 0
    for chunk in _chunks(data, CHUNK_ROWS):
        written += len(conn.execute(stmt, chunk).all())
    return written


def _do_update(stmt, table: Table, keys: list[str], columns: list[str]):
    updatable = [c for c in columns if c not in keys and c != "id"]
    if not updatable:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    compared = [c for c in updatable if c not in _NOT_COMPARED] or updatable
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c: stmt.excluded[c] for c in updatable},
        where=or_(*[table.c[c].is_distinct_from(stmt.excluded[c]) for c in compared]),
    )


def _upsert_via_copy(conn: Connection, table: Table, data: list[dict], keys: list[str], columns: list[str]) -> int:
    """PostgreSQL: COPY the rows into a temporary table, then one ``INSERT … SELECT … ON CONFLICT``."""
    staging = f"jgod_stage_{uuid.uuid4().hex[:12]}"
    quoted = ", ".join(f'"{c}"' for c in columns)
    conn.execute(text(f'CREATE TEMP TABLE "{staging}" AS SELECT {quoted} FROM "{table.name}" WITH NO DATA'))
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{staging}" ({quoted}) FROM STDIN') as copy:
        for row in data:
            copy.write_row([row[c] for c in columns])
    stage = table_clause(staging, *[column(c) for c in columns])
    stmt = postgresql.insert(table).from_select(columns, select(*[stage.c[c] for c in columns]))
    written = len(conn.execute(_do_update(stmt, table, keys, columns).returning(table.c[keys[0]])).all())
    conn.execute(text(f'DROP TABLE "{staging}"'))
    return written


def _chunks(data: list[dict], size: int) -> Iterable[list[dict]]:
    for i in range(0, len(data), size):
        yield data[i : i + size]
