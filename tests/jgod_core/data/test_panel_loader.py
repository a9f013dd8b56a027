"""load_panel on the real sample: grid, fields, halts, series timing, attributes, missing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from jgod_core.data import load_panel
from jgod_core.errors import MissingDataError
from jgod_plugins.data.sample import sample_dir

DAILY = "daily/twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"


def _raw(name: str, **kw) -> pd.DataFrame:
    from importlib import resources

    with resources.as_file(sample_dir().joinpath(*name.split("/"))) as path:
        return pd.read_csv(path, **kw)


def test_full_panel_matches_csv_values_cell_by_cell(sample_store):
    panel = load_panel(sample_store)
    raw = _raw(DAILY, dtype={"symbol": str})
    expected = raw.pivot(index="symbol", columns="date", values="close")
    assert panel.shape == (51, 2531)
    assert list(panel.symbols) == sorted(expected.index)
    np.testing.assert_array_equal(
        panel.fields["close"], expected.reindex(columns=[str(d) for d in panel.dates]).to_numpy()
    )


def test_halted_rows_are_kept_with_nan_price_and_zero_volume(sample_store):
    panel = load_panel(sample_store)
    halted = panel.fields["halted"] == 1.0
    assert halted.sum() == 15
    assert np.isnan(panel.fields["close"][halted]).all()
    assert (panel.fields["volume"][halted] == 0).all()


def test_symbols_are_normalised_and_keep_leading_zeros(sample_store):
    panel = load_panel(sample_store, ["2330.TW", "0050"], start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 31))
    assert panel.symbols == ("2330", "0050")
    assert list(panel.attributes["market"]) == ["TWSE", "TWSE"]
    assert list(panel.attributes["security_type"]) == ["股票", "ETF"]
    assert panel.attributes["industry"][0] == "半導體業"


def test_lookback_days_adds_trading_days_before_start(sample_store):
    panel = load_panel(sample_store, ["2330"], start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 5), lookback_days=3)
    assert [str(d) for d in panel.dates] == [
        "2023-12-27", "2023-12-28", "2023-12-29", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
    ]


def test_us_close_of_date_d_appears_only_on_taiwan_dates_after_d(sample_store):
    panel = load_panel(sample_store, ["2330"], start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 10))
    sp = _raw("daily/sp500_index_daily_2010-01-04_2026-02-27.csv").set_index("date")["close"]
    dates = [str(d) for d in panel.dates]
    # Taiwan 2024-01-03 sees the US close of 2024-01-02, never its own date's close.
    assert panel.series["sp500_close"][dates.index("2024-01-03")] == sp["2024-01-02"]
    # Taiwan 2024-01-02 sees 2023-12-29 (US 2024-01-01 was a holiday).
    assert panel.series["sp500_close"][dates.index("2024-01-02")] == sp["2023-12-29"]


def test_missing_adjustment_is_reported_not_invented(sample_store):
    panel = load_panel(sample_store, ["0050"], start=dt.date(2025, 5, 1))
    assert "adj_factor" not in panel.fields
    assert "adjustment" in panel.missing["adj_factor"]
    assert {"institutional_flows", "margin", "broker_branches"} <= set(panel.missing)


def test_unknown_window_raises_missing_data(sample_store):
    with pytest.raises(MissingDataError):
        load_panel(sample_store, ["2330"], start=dt.date(2030, 1, 1), end=dt.date(2030, 2, 1))
