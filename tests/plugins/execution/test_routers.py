"""Routers: slice arithmetic, schedules, the Almgren–Chriss closed form, VWAP on real minute bars."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from jgod_core import MissingDataError
from jgod_core.execution.orders import Order, Side
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_core.risk.market_view import StaticMarketView
from jgod_plugins.execution.almgren_chriss import AlmgrenChrissParams, AlmgrenChrissRouter, almgren_chriss_trajectory
from jgod_plugins.execution.iceberg import IcebergParams, IcebergRouter
from jgod_plugins.execution.pov import PovParams, PovRouter
from jgod_plugins.execution.slicer import SlicerParams, SlicerRouter
from jgod_plugins.execution.twap import TwapParams, TwapRouter
from jgod_plugins.execution.vwap import VwapParams, VwapRouter, volume_profile
from jgod_plugins.risk.fragility import FragilityRule

NOW = dt.datetime(2024, 3, 1, 9, 0)


def approve(lots: int, rules=(), ctx=None):
    order = Order("P1", "1101", Side.BUY, lots * 1000, Decimal("40"), Decimal("40"))
    return RiskEngine(list(rules)).check(order, ctx or RiskContext(NOW)).approved


def lots_of(children):
    return [c.quantity // 1000 for c in children]


def test_slicer_puts_the_remainder_on_the_first_slice():
    children = SlicerRouter().schedule(approve(120))
    assert lots_of(children) == [20, 50, 50]
    assert [c.client_order_id for c in children] == ["P1-001", "P1-002", "P1-003"]
    assert all(c.parent_id == "P1" for c in children)


def test_slicer_releases_one_slice_every_interval_and_never_after_the_close():
    children = SlicerRouter().schedule(approve(120))  # default: a slice every 5 minutes
    assert [(c.start_minute, c.end_minute) for c in children] == [(0.0, 270.0), (5.0, 270.0), (10.0, 270.0)]
    late = SlicerRouter(SlicerParams(max_slice_lots=1, interval_minutes=100)).schedule(approve(4))
    assert [c.start_minute for c in late] == [0.0, 100.0, 200.0, 270.0]
    at_once = SlicerRouter(SlicerParams(interval_minutes=0)).schedule(approve(120))
    assert {c.start_minute for c in at_once} == {0.0}


@pytest.mark.parametrize("lots, expected", [(50, [50]), (1, [1]), (100, [50, 50]), (151, [1, 50, 50, 50])])
def test_slicer_boundaries(lots, expected):
    assert lots_of(SlicerRouter(SlicerParams(max_slice_lots=50)).schedule(approve(lots))) == expected


def test_slicer_honours_fragility_slice_factor():
    bars = {"open": np.array([40.0, 40.0]), "high": np.array([41.0, 41.0]), "low": np.array([39.0, 39.0]),
            "close": np.array([40.0, 40.0]), "volume": np.array([1000.0, 1000.0])}
    ctx = RiskContext(NOW, market=StaticMarketView(daily={"1101": bars}))
    approved = approve(200, [FragilityRule()], ctx)  # fragile: 200 → 100 lots, slices × 0.5 → 25 lots
    assert approved.order.quantity == 100_000 and approved.slice_factor == 0.5
    assert lots_of(SlicerRouter().schedule(approved)) == [25, 25, 25, 25]


def test_twap_splits_evenly_with_extra_lots_first():
    children = TwapRouter(TwapParams(slices=4)).schedule(approve(10))
    assert lots_of(children) == [3, 3, 2, 2]
    assert [(c.start_minute, c.end_minute) for c in children] == [(0, 67.5), (67.5, 135), (135, 202.5), (202.5, 270)]


def test_iceberg_shows_display_lots_one_clip_at_a_time():
    children = IcebergRouter(IcebergParams(display_lots=5)).schedule(approve(12))
    assert lots_of(children) == [2, 5, 5]
    assert [c.slice_index for c in children] == [0, 1, 2]


# -- Almgren–Chriss -------------------------------------------------------------------------------


def test_almgren_chriss_worked_example_of_the_paper():
    # Almgren & Chriss (2000) §4 example: X = 10⁶ shares, T = 5 days, N = 5, σ = 0.95 $/share/√day,
    # η = 2.5e-6, γ = 2.5e-7, λ = 1e-6 → η̃ = 2.375e-6, κ̃² = λσ²/η̃ = 0.38, κ = arccosh(1.19) ≈ 0.6/day
    path = almgren_chriss_trajectory(1e6, 5.0, 5, 0.95, 2.5e-6, 2.5e-7, 1e-6)
    assert path.eta_tilde == pytest.approx(2.375e-6)
    assert path.kappa_tilde_sq == pytest.approx(0.38)
    assert path.kappa == pytest.approx(math.log(1.19 + math.sqrt(1.19**2 - 1)))
    assert path.kappa == pytest.approx(0.607, abs=1e-3)
    expected = [1e6 * math.sinh(path.kappa * (5 - j)) / math.sinh(path.kappa * 5) for j in range(6)]
    np.testing.assert_allclose(path.holdings, expected, rtol=1e-12)
    # the optimality condition of the paper: (x_{j−1} − 2x_j + x_{j+1}) / τ² = κ̃² x_j
    x = path.holdings
    np.testing.assert_allclose((x[:-2] - 2 * x[1:-1] + x[2:]), 0.38 * x[1:-1], rtol=1e-9)
    assert path.trades.sum() == pytest.approx(1e6) and np.all(np.diff(path.trades) < 0)  # front-loaded


def test_almgren_chriss_without_risk_aversion_is_twap():
    path = almgren_chriss_trajectory(1e6, 1.0, 4, 0.95, 2.5e-6, 2.5e-7, 0.0)
    np.testing.assert_allclose(path.trades, [250_000] * 4)


def test_almgren_chriss_router_children_sum_to_parent_and_front_load():
    params = AlmgrenChrissParams(volatility=0.95, risk_aversion=1e-4, intervals=5)
    children = AlmgrenChrissRouter(params).schedule(approve(100))
    lots = lots_of(children)
    assert sum(lots) == 100 and lots[0] > lots[-1]


# -- VWAP / POV on real minute bars ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tx_minutes() -> pd.DataFrame:
    path = files("jgod_plugins.data") / "sample_data" / "intraday" / "taifex_tx_near_month_1min_2026-05-12_2026-06-23.csv.gz"
    frame = pd.read_csv(path)
    return frame[frame["session"] == "day"]


class MinuteView(StaticMarketView):
    def __init__(self, bars, **kw):
        super().__init__(**kw)
        object.__setattr__(self, "_minutes", bars)

    def intraday_bars(self, symbol):
        return self._minutes if symbol == "*" else None


def test_volume_profile_matches_independent_groupby(tx_minutes):
    profile = volume_profile(tx_minutes, buckets=9, history_days=20)
    ts = pd.to_datetime(tx_minutes["bar_start"]).dt.tz_convert("Asia/Taipei")
    minute = (ts.dt.hour * 60 + ts.dt.minute) - 540
    frame = tx_minutes.assign(day=ts.dt.date, minute=minute)
    frame = frame[(frame.minute >= 0) & (frame.minute < 270)]
    last20 = sorted(frame.day.unique())[-20:]
    frame = frame[frame.day.isin(last20)]
    frame = frame.assign(bucket=frame.minute // 30)
    per_day = frame.groupby(["day", "bucket"]).volume.sum().unstack(fill_value=0)
    expected = per_day.div(per_day.sum(axis=1), axis=0).mean().to_numpy()
    np.testing.assert_allclose(profile, expected, rtol=1e-12)
    assert profile.sum() == pytest.approx(1.0)
    assert profile[0] > profile[4] and profile[-1] > profile[4]  # the intraday U shape


def test_vwap_router_follows_the_profile_and_conserves_quantity(tx_minutes):
    view = MinuteView(tx_minutes)
    children = VwapRouter(VwapParams(buckets=9)).schedule(approve(90), view)
    lots = np.bincount([int(c.start_minute // 30) for c in children], weights=lots_of(children), minlength=9)
    profile = volume_profile(tx_minutes, 9, 20)
    assert lots.sum() == 90
    assert np.all(np.abs(lots - 90 * profile) <= 1)  # largest-remainder rounding


def test_vwap_router_refuses_without_history():
    with pytest.raises(MissingDataError, match="no intraday minute bars"):
        VwapRouter().schedule(approve(10), StaticMarketView())


def test_pov_caps_each_bucket_at_participation_of_forecast_volume():
    bars = {"close": np.full(20, 40.0), "volume": np.full(20, 900_000.0)}
    children = PovRouter(PovParams(participation=0.1, buckets=9)).schedule(
        approve(100), StaticMarketView(daily={"1101": bars}))
    # no minute bars: even forecast 100,000 shares per bucket → 10,000 shares = 10 lots per bucket, 90 of 100
    assert lots_of(children) == [10] * 9
