"""No look-ahead: perturbing every row published after t leaves panels as of t unchanged."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest
from sqlalchemy import text

from jgod_core.data import load_panel
from jgod_core.storage import open_store
from jgod_plugins.tw_market.timing import to_utc_naive

AS_OF = dt.datetime(2021, 6, 15, 14, 0)  # Taipei, after that day's close


@pytest.fixture(scope="module")
def perturbed_store(sample_store, tmp_path_factory):
    """A copy of the sample store where every value published after AS_OF is changed."""
    source = sample_store.engine.url.database
    target = tmp_path_factory.mktemp("perturbed") / "jgod.sqlite"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    store = open_store(f"sqlite:///{target}")
    cutoff = to_utc_naive(AS_OF)
    with store.transaction() as conn:
        for table, columns in {
            "daily_bars": ("open", "high", "low", "close", "volume"),
            "market_daily": ("open", "high", "low", "close", "volume", "settlement"),
            "monthly_revenue": ("revenue_twd",),
        }.items():
            sets = ", ".join(f"{c} = {c} * 3 + 7" for c in columns)
            conn.execute(text(f"UPDATE {table} SET {sets} WHERE available_at > :cutoff"), {"cutoff": cutoff})
        conn.execute(text("UPDATE daily_bars SET halted = 1 WHERE available_at > :cutoff"), {"cutoff": cutoff})
    return store


def _assert_same(a, b):
    assert a.symbols == b.symbols
    np.testing.assert_array_equal(a.dates, b.dates)
    assert a.fields.keys() == b.fields.keys() and a.series.keys() == b.series.keys()
    for name in a.fields:
        np.testing.assert_array_equal(a.fields[name], b.fields[name], err_msg=name)
    for name in a.series:
        np.testing.assert_array_equal(a.series[name], b.series[name], err_msg=name)


@pytest.mark.parametrize("end", [None, dt.date(2021, 6, 15), dt.date(2022, 1, 31)])
def test_panel_as_of_t_ignores_every_change_published_after_t(sample_store, perturbed_store, end):
    kwargs = dict(start=dt.date(2021, 1, 4), end=end, lookback_days=20, as_of=AS_OF)
    original = load_panel(sample_store, **kwargs)
    perturbed = load_panel(perturbed_store, **kwargs)
    _assert_same(original, perturbed)
    assert str(original.dates[-1]) == "2021-06-15"


def test_perturbation_is_visible_after_t(sample_store, perturbed_store):
    later = dict(start=dt.date(2021, 6, 1), end=dt.date(2021, 6, 30))
    assert not np.array_equal(load_panel(sample_store, **later).fields["close"],
                              load_panel(perturbed_store, **later).fields["close"], equal_nan=True)


def test_same_day_us_close_is_not_visible_before_the_next_taiwan_day(sample_store):
    panel = load_panel(sample_store, ["2330"], start=dt.date(2021, 6, 14), end=dt.date(2021, 6, 15), as_of=AS_OF)
    # At 14:00 Taipei on 2021-06-15 the latest US close is that of 2021-06-14 (published 04:15 Taipei).
    sp = sample_store.read_market(["sp500"], start=dt.date(2021, 6, 14), end=dt.date(2021, 6, 15))
    assert panel.series["sp500_close"][-1] == sp[sp["date"] == dt.date(2021, 6, 14)]["close"].item()
