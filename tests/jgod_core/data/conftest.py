"""A store holding the embedded real sample, loaded once per test session."""

from __future__ import annotations

import pytest

from jgod_core.storage import open_store


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory):
    """A SQLite store in a temporary directory with the whole real sample loaded (read-only use)."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('sample_store') / 'jgod.sqlite'}")
    assert store.ensure_sample_loaded(progress=False) is True
    return store
