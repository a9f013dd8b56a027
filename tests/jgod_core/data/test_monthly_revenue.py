"""``monthly_revenue`` panel field: visible from its filing deadline (10th of the next month), never before."""

from __future__ import annotations

import datetime as dt
from importlib import resources

import numpy as np
import pandas as pd

from jgod_core.data import load_panel
from jgod_plugins.tw_market.calendar import trading_days


def test_hand_checked_publication_dates_around_lunar_new_year(sample_store):
    panel = load_panel(sample_store, ["2330", "0050"], start=dt.date(2024, 1, 2), end=dt.date(2024, 3, 15))
    revenue = pd.Series(panel.fields["monthly_revenue"][panel.symbols.index("2330")], index=panel.dates.astype(str))
    changes = revenue[revenue.ne(revenue.shift())]
    assert [(str(d), v) for d, v in changes.items()] == [
        ("2024-01-02", 206_026_179_000.0),  # Nov 2023, filed by 2023-12-10
        ("2024-01-10", 176_299_866_000.0),  # Dec 2023 on its deadline day
        ("2024-02-15", 215_785_127_000.0),  # Jan 2024: deadline Sat 02-10 in the holiday, first session 02-15
        ("2024-03-11", 181_648_270_000.0),  # Feb 2024: deadline Sun 03-10
    ]
    assert np.isnan(panel.fields["monthly_revenue"][panel.symbols.index("0050")]).all()


def test_equals_an_independent_pandas_computation_over_the_whole_sample(sample_store):
    raw = pd.read_csv(resources.files("jgod_plugins.data") / "sample_data" / "fundamentals"
                      / "tw_month_revenue_2330_2015-01_2025-12.csv", dtype={"symbol": str})
    visible_from = (pd.PeriodIndex(raw["month"], freq="M") + 1).to_timestamp() + pd.Timedelta(days=9)
    panel = load_panel(sample_store, ["2330"])
    dates = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    position = np.searchsorted(visible_from.to_numpy(), dates.to_numpy(), side="right") - 1
    expected = np.where(position >= 0, raw["revenue_twd"].to_numpy(float)[np.maximum(position, 0)], np.nan)
    np.testing.assert_array_equal(panel.fields["monthly_revenue"][0], expected)
    assert str(panel.dates[0]) == "2015-01-05" and np.isnan(panel.fields["monthly_revenue"][0][0])  # Jan 2015 not yet filed


def test_intraday_as_of_before_the_filing_day_ends_does_not_see_it(sample_store):
    panel = load_panel(sample_store, ["2330"], start=dt.date(2024, 1, 8), end=dt.date(2024, 1, 10),
                       as_of=dt.datetime(2024, 1, 10, 14, 0))
    assert panel.fields["monthly_revenue"][0].tolist() == [206_026_179_000.0] * 3  # Dec 2023 not yet stamped


def test_symbols_without_revenue_are_reported_missing(sample_store):
    panel = load_panel(sample_store, ["0050"], start=dt.date(2024, 1, 2), end=dt.date(2024, 1, 31))
    assert "monthly_revenue" not in panel.fields
    assert "no monthly revenue" in panel.missing["monthly_revenue"]
    assert len(trading_days(dt.date(2024, 1, 2), dt.date(2024, 1, 31))) == len(panel.dates)
