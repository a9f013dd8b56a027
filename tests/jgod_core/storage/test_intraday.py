"""Parquet intraday store: layout beside the database, idempotent atomic day writes, point-in-time reads,
and the views the realtime engine and the paper broker consume (checked against their own readers)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jgod_core.storage import intraday as intraday_mod
from jgod_core.storage import open_store
from jgod_core.storage.intraday import IntradayStore, IntradayStoreError, event_batch, recording_layout
from jgod_core.storage.store import intraday_root, make_engine
from jgod_plugins.data import recordings


@pytest.fixture(scope="module")
def binance():
    """The real Binance recording as store rows (trades, books, bbo)."""
    return {"ticks": recordings.read_binance_trades(), "books": recordings.read_binance_books(),
            "bbo": recordings.read_binance_bbo()}


def two_days(trades: pd.DataFrame) -> pd.DataFrame:
    """The recording's trades split over two trade dates (the second half moved to the next day)."""
    frame = trades.copy()
    frame.loc[frame.index[len(frame) // 2:], "trade_date"] = dt.date(2024, 8, 10)
    return frame


def files_under(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_sqlite_store_keeps_its_parquet_files_beside_the_database_file(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'jgod.sqlite'}")
    other = open_store(f"sqlite:///{tmp_path / 'b' / 'jgod.sqlite'}")
    assert store.intraday.root == tmp_path / "a" / "jgod.intraday"
    assert other.intraday.root != store.intraday.root


def test_server_databases_get_one_directory_per_database_and_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("JGOD_DATA_DIR", str(tmp_path))
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    one, two = intraday_root(engine, "s1"), intraday_root(engine, "s2")
    assert one.parent == tmp_path / "intraday" and one != two
    assert one.name == "postgresql_127.0.0.1_5432_test_s1"


def test_loading_the_same_day_twice_keeps_one_copy_and_writes_nothing(tmp_path, binance):
    store = IntradayStore(tmp_path)
    assert store.write("ticks", binance["ticks"]) == 19_904
    path = store.path("ticks", "btcusdt", dt.date(2024, 8, 9))
    stamp = path.stat().st_mtime_ns
    assert store.write("ticks", binance["ticks"]) == 0
    assert path.stat().st_mtime_ns == stamp  # an unchanged day is not rewritten
    assert len(store.read_ticks("btcusdt")) == 19_904


def test_overlapping_load_adds_only_new_rows_and_a_correction_replaces_its_row(tmp_path, binance):
    store = IntradayStore(tmp_path)
    trades = binance["ticks"]
    assert store.write("ticks", trades.iloc[:1000]) == 1000
    assert store.write("ticks", trades.iloc[500:1500]) == 500
    corrected = trades.iloc[[10]].assign(price=trades["price"].iloc[10] + 0.01)
    assert store.write("ticks", corrected) == 1
    got = store.read_ticks("btcusdt")
    assert len(got) == 1500 and got["seq"].is_unique
    assert got.loc[got["seq"] == trades["seq"].iloc[10], "price"].item() == pytest.approx(trades["price"].iloc[10] + 0.01)


def test_failed_load_leaves_no_partial_day_and_no_temp_files(tmp_path, binance):
    store = IntradayStore(tmp_path)
    store.write("books", binance["books"].iloc[:100])
    before = files_under(tmp_path)
    with pytest.raises(RuntimeError):
        with store.transaction() as write:
            write.write("ticks", two_days(binance["ticks"]))
            write.write("books", binance["books"])
            raise RuntimeError("the load failed after staging")
    assert files_under(tmp_path) == before
    assert len(store.read_books("btcusdt")) == 100 and store.read_ticks("btcusdt").empty


def test_a_crash_while_writing_the_second_day_leaves_the_first_day_unwritten(tmp_path, binance, monkeypatch):
    store = IntradayStore(tmp_path)
    real_write = pq.write_table
    calls = []

    def crash_on_second(table, where, **kwargs):
        calls.append(where)
        if len(calls) == 2:
            with open(where, "wb") as half:
                half.write(b"PAR1 half a file")
            raise OSError("disk full")
        return real_write(table, where, **kwargs)

    monkeypatch.setattr(intraday_mod.pq, "write_table", crash_on_second)
    with pytest.raises(OSError):
        store.write("ticks", two_days(binance["ticks"]))
    assert files_under(tmp_path) == []
    assert store.days("ticks", "btcusdt") == []


def test_as_of_read_returns_nothing_stamped_later_and_ignores_later_data(tmp_path, binance):
    store = IntradayStore(tmp_path)
    store.write("ticks", binance["ticks"])
    cutoff = int(binance["ticks"]["exchange_ns"].iloc[7000])
    seen = store.read_ticks("btcusdt", as_of=cutoff)
    assert len(seen) and seen["exchange_ns"].max() <= cutoff
    assert len(seen) == int((binance["ticks"]["exchange_ns"] <= cutoff).sum())

    later = binance["ticks"][binance["ticks"]["exchange_ns"] > cutoff]
    store.write("ticks", later.assign(price=later["price"] * 2, size=later["size"] + 1))
    pd.testing.assert_frame_equal(store.read_ticks("btcusdt", as_of=cutoff), seen)


def test_naive_as_of_is_taipei_time(tmp_path):
    taifex = recordings.read_tx_tick_excerpt(raw=False)
    store = IntradayStore(tmp_path)
    store.write("ticks", taifex)
    night = store.read_ticks("tx", as_of=dt.datetime(2026, 5, 28, 23, 59, 59))
    assert len(night) == 200  # the 2026-05-28 prints: 15:00:00 .. 15:00:04 Taipei (auction repeat dropped)
    assert night["exchange_ns"].max() == pd.Timestamp("2026-05-28 15:00:04", tz="Asia/Taipei").value


def test_bbo_without_exchange_time_is_cut_on_its_later_receive_time(tmp_path, binance):
    store = IntradayStore(tmp_path)
    store.write("bbo", binance["bbo"])
    cutoff = int(binance["bbo"]["receive_ns"].iloc[5000])
    seen = store.read_bbo("btcusdt", as_of=cutoff)
    assert len(seen) == int((binance["bbo"]["receive_ns"] <= cutoff).sum())
    assert seen["exchange_ns"].isna().all()


def test_bad_rows_are_refused_before_anything_is_written(tmp_path, binance):
    store = IntradayStore(tmp_path)
    with pytest.raises(IntradayStoreError, match="no column"):
        store.write("ticks", binance["ticks"].assign(venue="x"))
    with pytest.raises(IntradayStoreError, match="instrument"):
        store.write("ticks", binance["ticks"].assign(instrument="../etc"))
    with pytest.raises(IntradayStoreError, match="unknown intraday dataset"):
        store.write("quotes", binance["ticks"])
    assert files_under(tmp_path) == []


def test_event_batch_equals_an_independent_decode_of_the_recorded_csv_files(tmp_path, binance):
    store = IntradayStore(tmp_path)
    store.write("ticks", binance["ticks"])
    store.write("books", binance["books"])
    batch = event_batch(store.read_ticks("btcusdt"), store.read_books("btcusdt"))

    folder = recordings.intraday_dir() / recordings.BINANCE_DIR
    book = pd.read_csv(folder / "spot_btcusdt_book5.csv.gz")
    trades = pd.read_csv(folder / "spot_btcusdt_trades.csv.gz")
    levels = [f"{side}_{what}_{k}" for side, what in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
              for k in range(1, 6)]
    expected = pd.concat([
        pd.DataFrame({"kind": 2, "exchange_ns": book["event_time_ms"] * 1_000_000, "receive_ns": book["recv_ts_ns"],
                      "seq": book["final_update_id"], "price": np.nan, "size": 0.0, "side": 0}),
        pd.DataFrame({"kind": 1, "exchange_ns": trades["trade_time_ms"] * 1_000_000, "receive_ns": trades["recv_ts_ns"],
                      "seq": trades["trade_id"], "price": trades["price"], "size": trades["qty"],
                      "side": np.where(trades["is_buyer_maker"] == 1, -1, 1)}),
    ], ignore_index=True)
    order = np.argsort(expected["exchange_ns"].to_numpy(), kind="stable")  # books first at equal times
    expected = expected.iloc[order]
    for column in ("kind", "exchange_ns", "receive_ns", "seq", "price", "size", "side"):
        np.testing.assert_array_equal(getattr(batch, column), expected[column].to_numpy(), err_msg=column)
    books_in_batch = batch.book[batch.kind == 2]
    np.testing.assert_array_equal(books_in_batch, book[levels].to_numpy(float)[np.argsort(
        book["event_time_ms"].to_numpy(), kind="stable")])


def test_paper_broker_book_replay_from_the_store_equals_the_one_from_the_csv_files(tmp_path, binance):
    from jgod_plugins.execution.paper import BookReplay

    store = IntradayStore(tmp_path)
    store.write("ticks", binance["ticks"])
    store.write("books", binance["books"])
    directory = recordings.intraday_dir() / recordings.BINANCE_DIR
    expected = BookReplay.from_frames(pd.read_csv(directory / "spot_btcusdt_book5.csv.gz"),
                                      pd.read_csv(directory / "spot_btcusdt_trades.csv.gz"), quantity_scale=100_000)
    got = BookReplay.from_frames(*recording_layout(store.read_books("btcusdt"), store.read_ticks("btcusdt")),
                                 quantity_scale=100_000)
    for name in ("book_ts", "bid_px", "bid_qty", "ask_px", "ask_qty", "trade_ts", "trade_px", "trade_qty"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
