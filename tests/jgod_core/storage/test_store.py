"""Store: creation, migrations, bulk upserts, idempotent and transactional loads (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import sys

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from jgod_core.storage import migrate, models, open_store
from jgod_core.storage.store import StoreError, default_url, make_engine

NOW = dt.datetime(2025, 1, 1, 12, 0)


def bars(day: dt.date, close: float = 100.0, symbols=("2330", "0050")) -> pd.DataFrame:
    return pd.DataFrame({
        "symbol": list(symbols), "date": day, "open": close, "high": close, "low": close, "close": close,
        "volume": 1000, "halted": False, "source": "test",
        "available_at": dt.datetime.combine(day, dt.time(5, 30)), "updated_at": NOW,
    })


def test_default_store_is_sqlite_in_the_data_dir_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("JGOD_DATA_DIR", str(tmp_path / "new" / "dir"))
    monkeypatch.delenv("JGOD_DB_URL", raising=False)
    assert default_url() == f"sqlite:///{tmp_path / 'new' / 'dir' / 'jgod.sqlite'}"
    store = open_store()
    assert (tmp_path / "new" / "dir" / "jgod.sqlite").exists()
    assert migrate.current_revision(store.engine) == migrate.head_revision()


def test_env_url_wins_over_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("JGOD_DB_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    assert open_store().url.endswith("elsewhere.sqlite")


def test_unsupported_or_invalid_url_is_a_clear_error():
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        make_engine("mysql://x@localhost/db")
    with pytest.raises(StoreError, match="invalid database URL"):
        make_engine("not a url")


def test_postgres_url_without_its_driver_installed_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(StoreError, match=r"pip install -e '\.\[postgres\]'") as caught:
        make_engine("postgresql+psycopg://user:s3cret@127.0.0.1:1/x")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(StoreError, match="cannot use 'postgresql\\+nosuchdriver'"):
        make_engine("postgresql+nosuchdriver://user@127.0.0.1:1/x")


def test_migrated_schema_equals_the_models(store):
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata)
    assert diff == []


def test_upgrade_from_revision_0001_keeps_existing_rows(backend):
    url, schema = backend
    engine = make_engine(url, schema=schema)
    migrate.upgrade(engine, "0001")
    assert "trades" not in {c["name"] for c in inspect(engine).get_columns("daily_bars")}
    with engine.begin() as conn:
        conn.execute(models.DailyBar.__table__.insert(),
                     [r for r in bars(dt.date(2024, 1, 2)).drop(columns=[]).to_dict("records")])
    before = pd.read_sql(text("SELECT symbol, date, close, volume FROM daily_bars ORDER BY symbol"), engine)

    store = open_store(url, schema=schema)  # upgrades to head

    assert migrate.current_revision(store.engine) == migrate.head_revision()
    after = store.read_bars()
    pd.testing.assert_frame_equal(after[["symbol", "close", "volume"]].reset_index(drop=True),
                                  before[["symbol", "close", "volume"]].reset_index(drop=True))
    assert after["trades"].isna().all()
    engine.dispose()


def test_loading_the_same_day_twice_leaves_one_row_per_symbol(store):
    day = dt.date(2024, 1, 2)
    assert store.upsert(models.DailyBar, bars(day)) == 2
    assert store.upsert(models.DailyBar, bars(day)) == 0
    assert store.count(models.DailyBar) == 2


def test_reloading_a_corrected_value_updates_only_that_row(store):
    day = dt.date(2024, 1, 2)
    store.upsert(models.DailyBar, bars(day))
    corrected = bars(day)
    corrected.loc[corrected["symbol"] == "2330", "close"] = 101.0
    assert store.upsert(models.DailyBar, corrected) == 1
    got = store.read_bars(["2330"])
    assert got["close"].tolist() == [101.0] and store.count(models.DailyBar) == 2


def test_failed_load_leaves_the_store_unchanged(store):
    store.upsert(models.DailyBar, bars(dt.date(2024, 1, 2)))
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            store.upsert(models.DailyBar, bars(dt.date(2024, 1, 3)), conn=conn)
            store.upsert(models.DailyBar, bars(dt.date(2024, 1, 2), close=1.0), conn=conn)
            raise RuntimeError("the second half of the day failed")
    stored = store.read_bars()
    assert len(stored) == 2 and (stored["close"] == 100.0).all()


def test_bad_row_in_a_bulk_load_rolls_back_the_whole_load(store):
    good = bars(dt.date(2024, 1, 3))
    bad = bars(dt.date(2024, 1, 4)).assign(symbol=None)  # NOT NULL violation
    with pytest.raises(Exception):  # noqa: B017 - the driver's own IntegrityError type differs per back end
        store.upsert(models.DailyBar, pd.concat([good, bad], ignore_index=True))
    assert store.count(models.DailyBar) == 0


def test_as_of_read_never_returns_rows_published_later(store):
    store.upsert(models.DailyBar, bars(dt.date(2024, 1, 2)))
    store.upsert(models.DailyBar, bars(dt.date(2024, 1, 3)))
    # 13:29 Taipei on 2024-01-03 is 05:29 UTC, one minute before that day's close stamp.
    seen = store.read_bars(as_of=dt.datetime(2024, 1, 3, 13, 29))
    assert set(seen["date"]) == {dt.date(2024, 1, 2)}
    seen = store.read_bars(as_of=dt.datetime(2024, 1, 3, 13, 30))
    assert set(seen["date"]) == {dt.date(2024, 1, 2), dt.date(2024, 1, 3)}


def test_engine_output_tables_round_trip(store):
    with store.transaction() as conn:
        conn.execute(models.AuditRecord.__table__.insert(), {
            "seq": 1, "ts": NOW, "kind": "order", "payload_json": json.dumps({"qty": 1000}),
            "model_version": "m1", "is_real_trade": False, "prev_hash": "0" * 64, "hash": "a" * 64})
        conn.execute(models.TradingStateChange.__table__.insert(), {
            "ts": NOW, "state": "HALTED", "reason": "breaker", "actor": "risk", "is_real_trade": False})
    store.upsert(models.FactorValue, [{
        "date": dt.date(2024, 1, 2), "symbol": "*", "factor": "cycle", "component": "score", "value": 0.5,
        "model_version": "m1", "is_real_trade": False, "computed_at": NOW, "betas_json": '{"cycle": 0.2}'}])
    with store.engine.connect() as conn:
        assert conn.execute(select(models.AuditRecord.__table__.c.hash)).scalar_one() == "a" * 64
        assert conn.execute(select(models.TradingStateChange.__table__.c.state)).scalar_one() == "HALTED"
    assert store.count(models.FactorValue) == 1


def test_bulk_path_counts_and_is_idempotent_for_large_loads(store):
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(400)]
    frame = pd.concat([bars(d) for d in days], ignore_index=True)  # 800 rows: the COPY path on PostgreSQL
    assert store.upsert(models.DailyBar, frame) == 800
    assert store.upsert(models.DailyBar, frame) == 0
    frame.loc[0, "close"] = 99.0
    assert store.upsert(models.DailyBar, frame) == 1
    assert store.count(models.DailyBar) == 800


def test_full_sample_loads_and_reloads_idempotently(store):
    written = store.load_sample(progress=False)
    assert written["daily_bars"] == 123_119 and store.count(models.DailyBar) == 123_119
    assert store.ensure_sample_loaded(progress=False) is False
    assert set(store.load_sample(progress=False).values()) == {0}
    assert store.count(models.DailyBar) == 123_119


def test_journal_money_columns_are_exact_numerics_that_round_trip_a_price_and_fee(store):
    columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns("fills", schema=store.schema)}
    exact = store.engine.dialect.name != "sqlite"  # SQLite has no decimal storage: REAL there
    assert all(type(columns[name]).__name__ in ({"NUMERIC", "Numeric"} if exact else {"FLOAT", "REAL"})
               for name in ("price", "fee", "tax")), columns
    now = dt.datetime(2025, 5, 23, 1, 30)
    with store.engine.begin() as conn:
        conn.execute(models.FillRecord.__table__.insert().values(
            fill_id="f1", order_id="o1", ts=now, symbol="2330", side="buy", quantity=1000, price=965.0,
            fee=1375.0, tax=0.0))
        row = conn.execute(select(models.FillRecord.__table__)).one()
    assert (row.price, row.fee, row.tax) == (965.0, 1375.0, 0.0)
    assert isinstance(row.price, float)
