"""TWSE e-shop fixed-width parsers against the flat CSVs decoded independently from the same real records."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jgod_plugins.feeds.twse_eshop import (
    RecordFormatError,
    dsp_books,
    mth_trades,
    read_dsp,
    read_mth,
    read_odr,
)
from jgod_plugins.intraday.processor import IntradayProcessor

SAMPLES = Path(str(files("jgod_plugins.data") / "sample_data" / "intraday" / "twse_eshop_format_samples"))
CASES = [
    (read_dsp, "dsp_sample_new_190byte.txt", "twse_dsp_5level_snapshot_sample_flat.csv", 40),
    (read_mth, "mth_sample.txt", "twse_mth_trade_sample.csv", 33),
    (read_odr, "odr_sample.txt", "twse_odr_order_sample.csv", 29),
]


@pytest.mark.parametrize("reader, raw, flat, rows", CASES, ids=["dsp", "mth", "odr"])
def test_raw_records_decode_to_every_field_of_the_flat_csv(reader, raw, flat, rows):
    parsed = reader(SAMPLES / "raw" / raw)
    expected = pd.read_csv(SAMPLES / flat, dtype=str, keep_default_na=False)
    assert len(parsed) == len(expected) == rows
    assert set(parsed.columns) == set(expected.columns)
    for column in expected.columns:
        got = parsed[column]
        want = expected[column]
        if column == "display_time":  # the flat CSV keeps whole seconds; the record has microseconds
            got = got.str[:8]
        if pd.api.types.is_numeric_dtype(got):
            np.testing.assert_allclose(got.to_numpy(float), want.astype(float).to_numpy(), err_msg=column)
        else:
            assert got.tolist() == want.tolist(), column


def test_dsp_keeps_the_microseconds_and_the_closing_call_match():
    dsp = read_dsp(SAMPLES / "raw" / "dsp_sample_new_190byte.txt")
    assert dsp["display_time"].iloc[0] == "08:30:04.446448"
    last = dsp.iloc[-1]
    assert (last["securities_code"], last["display_time"], last["remark"], last["match_flag"]) == \
        ("9958", "13:30:00.000000", " ", "Y")
    assert (last["trade_price"], last["transaction_volume"]) == (185.0, 9836)


def test_dsp_books_feed_the_processor_in_shares_and_skip_trial_displays():
    dsp = read_dsp(SAMPLES / "raw" / "dsp_sample_new_190byte.txt")
    symbols = ["0050", "9958"]
    assert len(dsp_books(dsp, symbols)) == 1  # only the 13:30:00 closing match is not a trial display
    books = dsp_books(dsp, symbols, include_trial=True)
    assert len(books) == 40 and books.book[0, 5] == 29_000 and books.book[0, 11] == 0.0
    proc = IntradayProcessor(symbols)
    proc.process(books)
    last = dsp.iloc[-1]
    bids = sum(last[f"bid_volume_{i}"] for i in range(1, 6))
    asks = sum(last[f"ask_volume_{i}"] for i in range(1, 6))
    assert proc.component("book_imbalance")[1] == pytest.approx((bids - asks) / (bids + asks))
    assert proc.best_quote(1) == (185.0, 185.5)


def test_mth_both_sides_of_a_trade_become_one_print():
    mth = read_mth(SAMPLES / "raw" / "mth_sample.txt")
    trades = mth_trades(mth, ["9945"])
    assert len(trades) == mth["trade_number"].nunique() < len(mth)
    by_number = mth.groupby("trade_number")["trade_volume"]
    assert (by_number.nunique() == 1).all()  # the B and S rows of a trade agree on its size
    assert trades.size.sum() == by_number.first().sum()
    assert (np.diff(trades.exchange_ns) >= 0).all()
    assert str(pd.Timestamp(int(trades.exchange_ns[0]), tz="UTC").tz_convert("Asia/Taipei")) == \
        "2017-05-31 13:10:29.190000+08:00"


def test_odr_changed_volume_is_signed(tmp_path):
    odr = read_odr(SAMPLES / "raw" / "odr_sample.txt")
    assert odr["changed_trade_volume"].dtype.kind == "i" and (odr["changed_trade_volume"] > 0).all()
    lines = (SAMPLES / "raw" / "odr_sample.txt").read_bytes().split(b"\n")
    lines[0] = lines[0][:37] + b"-" + lines[0][38:]  # a reduction, as the layout allows
    edited = tmp_path / "odr.txt"
    edited.write_bytes(b"\n".join(lines))
    assert read_odr(edited)["changed_trade_volume"].iloc[0] == -1000


def test_a_short_record_is_a_located_error_and_nothing_is_returned(tmp_path):
    lines = (SAMPLES / "raw" / "mth_sample.txt").read_bytes().split(b"\n")
    lines[4] = lines[4][:40]
    bad = tmp_path / "mth.txt"
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(RecordFormatError, match=r"mth.txt:5: record is 40 bytes, expected 63"):
        read_mth(bad)


def test_a_non_numeric_price_names_the_field(tmp_path):
    lines = (SAMPLES / "raw" / "dsp_sample_new_190byte.txt").read_bytes().split(b"\n")
    lines[2] = lines[2][:38] + b"01X950" + lines[2][44:]
    bad = tmp_path / "dsp.txt"
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(RecordFormatError, match=r"dsp.txt:3: field bid_price_1 \(bytes 39–44\)"):
        read_dsp(bad)
