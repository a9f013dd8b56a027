"""Storage tests run on SQLite and on PostgreSQL (marker ``postgres``; a fresh schema per test).

PostgreSQL comes from ``JGOD_TEST_POSTGRES_URL`` (default: the local trust-auth server). When it
is unreachable the tests fail: they never skip.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from jgod_core.storage import open_store

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("JGOD_TEST_POSTGRES_URL", DEFAULT_PG)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    """``(url, schema)`` of an empty database of each back end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jgod.sqlite'}", None
        return
    schema = f"jgod_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url())
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url(), schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(backend):
    url, schema = backend
    opened = open_store(url, schema=schema)
    yield opened
    opened.dispose()
