"""Suite-wide test setup: every test session gets its own empty J-GOD data directory."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory):
    """Point JGOD_DATA_DIR at a fresh directory so no test touches the user's store."""
    previous = os.environ.get("JGOD_DATA_DIR")
    os.environ["JGOD_DATA_DIR"] = str(tmp_path_factory.mktemp("jgod-data"))
    os.environ.pop("JGOD_DB_URL", None)
    yield
    if previous is None:
        os.environ.pop("JGOD_DATA_DIR", None)
    else:
        os.environ["JGOD_DATA_DIR"] = previous
