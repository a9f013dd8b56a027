"""Storage: the SQLAlchemy models, the store (transactions, bulk upserts, point-in-time readers)
and its Alembic migrations.

>>> store = open_store()              # JGOD_DB_URL, else SQLite in JGOD_DATA_DIR / user data dir
>>> store.ensure_sample_loaded()      # the embedded real sample, on first use
"""

from jgod_core.storage.store import Store, StoreError, data_dir, default_url, open_store

__all__ = ["Store", "StoreError", "data_dir", "default_url", "open_store"]
