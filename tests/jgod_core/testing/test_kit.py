"""The author's kit: real sample panels, factories, and contract checks that fail on broken components.

Each broken component below breaks exactly one rule; its test fails if the check is weakened.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import subprocess
import sys
import time
from decimal import Decimal
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from jgod_core import Broker, Factor, FactorResult, Panel, RiskRule, Router
from jgod_core.execution.orders import ChildOrder, Fill, Verdict
from jgod_core.risk.engine import RiskContext
from jgod_core.testing import kit
from jgod_core.testing.contracts import ContractError, check_broker, check_factor, check_router, check_rule
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.risk.order_size import OrderSizeRule
from jgod_plugins.sdk.factors import FactorParams, ResultBuilder, factor_inputs, simple_returns


@pytest.fixture(scope="module")
def panel() -> Panel:
    return kit.make_panel()


# -- make_panel is the shipped sample ----------------------------------------------------------------


def test_make_panel_is_a_real_slice_of_the_shipped_sample(panel):
    assert panel.symbols == kit.SAMPLE_SYMBOLS and panel.shape == (12, 895)
    assert str(panel.dates[0]) == kit.SAMPLE_START and str(panel.dates[-1]) == kit.SAMPLE_END
    daily = files("jgod_plugins.data") / "sample_data" / "daily"
    csv = pd.read_csv(daily / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz", dtype={"symbol": str})
    rows = csv[(csv["symbol"] == "2330") & csv["date"].between(kit.SAMPLE_START, kit.SAMPLE_END)]
    i = panel.symbols.index("2330")
    assert list(rows["date"]) == [str(d) for d in panel.dates]
    np.testing.assert_array_equal(panel.field("close")[i], rows["close"].to_numpy(dtype=float))
    np.testing.assert_array_equal(panel.field("volume")[i], rows["volume"].to_numpy(dtype=float))
    assert "taiex_close" in panel.series and "adj_factor" in panel.missing  # the sample has no adjustment table
    assert panel.attributes["security_type"][panel.symbols.index("0050")] == "ETF"


def test_make_panel_slices_symbols_and_dates_and_returns_independent_arrays():
    small = kit.make_panel(["2317", "2330"], "2020-03-02", "2020-03-31", lookback_days=5)
    assert small.symbols == ("2317", "2330") and str(small.dates[-1]) == "2020-03-31"
    assert str(small.dates[5]) == "2020-03-02" and len(small.dates) == 5 + 22
    small.fields["close"][:] = 0.0
    assert (kit.make_panel(["2317", "2330"], "2020-03-02", "2020-03-31", lookback_days=5).field("close") > 0).all()


def test_sample_store_is_loaded_once_per_process():
    assert kit.sample_store() is kit.sample_store()


# -- factories ------------------------------------------------------------------------------------------


def test_market_view_sees_nothing_after_its_date(panel):
    view = kit.market_view(panel, "2020-03-21")  # a Saturday: the view is as of Friday 2020-03-20
    assert str(view.date) == "2020-03-20"
    bars = view.bars("2330", 5)
    j = int(np.flatnonzero(panel.dates == np.datetime64("2020-03-20"))[0])
    np.testing.assert_array_equal(bars["close"], panel.field("close")[panel.symbols.index("2330"), j - 4:j + 1])
    assert len(view.series("taiex_close", 10_000)) == j + 1


def test_risk_context_defaults_and_overrides(panel):
    ctx = kit.risk_context(market=kit.market_view(panel, "2020-03-20"), positions={"2330": 2000}, stage="child")
    assert isinstance(ctx, RiskContext) and ctx.now == dt.datetime(2020, 3, 20, 9, 0)
    assert ctx.equity == ctx.day_start_equity == 10_000_000.0 and ctx.position("2330") == 2000 and ctx.stage == "child"
    assert kit.risk_context().now == kit.DEFAULT_NOW


def test_real_order_is_at_the_real_close_with_the_previous_close_as_reference(panel):
    order = kit.real_order(panel, "2330", "2020-03-20", lots=2)
    i, j = panel.symbols.index("2330"), int(np.flatnonzero(panel.dates == np.datetime64("2020-03-20"))[0])
    assert order.quantity == 2000 and order.limit_price == Decimal(repr(float(panel.field("close")[i, j])))
    assert order.reference_price == Decimal(repr(float(panel.field("close")[i, j - 1])))
    assert kit.real_order(panel, "0050").is_etf


def test_virtual_clock_sleeps_an_hour_in_no_wall_time(virtual_clock):
    clock = virtual_clock("2026-05-28 09:00")
    start = clock.now_ns()
    assert start == pd.Timestamp("2026-05-28 09:00", tz="Asia/Taipei").value
    began = time.perf_counter()
    clock.loop.run_until_complete(asyncio.sleep(3600))
    assert time.perf_counter() - began < 1.0
    assert clock.now_ns() - start >= 3600 * 10**9


def test_fixtures_are_the_kit_functions(make_panel, market_view, risk_context):
    assert (make_panel, market_view, risk_context) == (kit.make_panel, kit.market_view, kit.risk_context)


def test_contracts_import_and_run_without_pytest(tmp_path):
    script = (
        "import sys; sys.modules['pytest'] = None\n"  # any `import pytest` now raises ImportError
        "from jgod_core.testing.contracts import check_factor, ContractError\n"
        "from jgod_core.testing import make_panel\n"
        "import jgod_core.testing as t\n"
        "assert not hasattr(t, 'jgod_kernel')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- check_factor: a correct factor passes, each broken one fails ------------------------------------


class MomentumParams(FactorParams):
    """Params of the test momentum."""


class Momentum(Factor[MomentumParams]):
    """10-day momentum of the adjusted close, built with the SDK (the reference for the broken ones)."""

    name = "kit_momentum"
    Params = MomentumParams
    window = 10

    @classmethod
    def warmup_days(cls, params):
        return cls.window

    def momentum(self, panel: Panel) -> np.ndarray:
        return simple_returns(factor_inputs(panel).close, self.window)

    def compute(self, panel: Panel) -> FactorResult:
        builder = ResultBuilder(self.name, panel, self.params)
        builder.score_input(builder.add("momentum", self.momentum(panel), self.window))
        return builder.build(self.window)


class PeeksAtTomorrow(Momentum):
    """Momentum plus tomorrow's return: look-ahead."""

    def momentum(self, panel):
        close = factor_inputs(panel).close
        tomorrow = np.full(close.shape, np.nan)
        tomorrow[:, :-1] = close[:, 1:] / close[:, :-1] - 1
        return super().momentum(panel) + tomorrow


class DemeanedOverTheWholeSample(Momentum):
    """Close minus its mean over every date, later ones included: look-ahead through a statistic."""

    def momentum(self, panel):
        close = factor_inputs(panel).close
        return close - np.nanmean(close, axis=1, keepdims=True)


class FillsWarmupWithZero(Momentum):
    """Writes 0 where the window is not yet full."""

    def compute(self, panel):
        result = super().compute(panel)
        score = np.nan_to_num(result.score, nan=0.0)
        return FactorResult(self.name, score, result.components)


class ShortenedFirstWindows(Momentum):
    """Values from the first date on (a shortened window), though warm-up says 10."""

    def compute(self, panel):
        close = factor_inputs(panel).close
        t = close.shape[1]
        score = np.full(close.shape, np.nan)
        score[:, 1:] = close[:, 1:] / close[:, np.maximum(np.arange(1, t) - self.window, 0)] - 1
        return FactorResult(self.name, score, {})


class RelativeToTheMarket(Momentum):
    """Momentum minus the cross-sectional mean in the component itself: cross-sectional."""

    def momentum(self, panel):
        m = super().momentum(panel)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(np.isnan(m), 0.0, m), axis=0, keepdims=True)
        return m - mean


class ModifiesThePanel(Momentum):
    """Writes into the panel's close."""

    def compute(self, panel):
        panel.fields["close"][0, -1] = 1.0
        return super().compute(panel)


class WrongShape(Momentum):
    """Drops the last date."""

    def compute(self, panel):
        result = super().compute(panel)
        return FactorResult(self.name, result.score[:, :-1], {})


def test_a_correct_factor_passes_with_its_cross_sectional_score_exempt(panel):
    report = check_factor(Momentum, panel, cross_sectional={"score"})
    assert report.warmup == 10 and report.per_symbol_checked == ("momentum",)
    assert set(report.changed_after_cut) == {"score", "momentum"}
    assert 10 < report.cut < panel.shape[1] - 1


def test_the_cross_sectional_score_fails_the_independence_check_unless_exempt(panel):
    with pytest.raises(ContractError, match="'score' of .* changed when only .*'s data changed"):
        check_factor(Momentum, panel)


@pytest.mark.parametrize("broken", [PeeksAtTomorrow, DemeanedOverTheWholeSample], ids=lambda c: c.__name__)
def test_check_factor_fails_a_look_ahead_factor(panel, broken):
    with pytest.raises(ContractError, match="look-ahead: 'score'|look-ahead: 'momentum'"):
        check_factor(broken, panel, cross_sectional=True)


@pytest.mark.parametrize("broken", [FillsWarmupWithZero, ShortenedFirstWindows], ids=lambda c: c.__name__)
def test_check_factor_fails_a_factor_that_fills_its_warm_up(panel, broken):
    with pytest.raises(ContractError, match="warm-up rows must be NaN, not filled"):
        check_factor(broken, panel, cross_sectional=True)


def test_check_factor_fails_a_component_that_depends_on_other_symbols(panel):
    with pytest.raises(ContractError, match="'momentum' of .* changed when only"):
        check_factor(RelativeToTheMarket, panel, cross_sectional={"score"})
    check_factor(RelativeToTheMarket, panel, cross_sectional=True)  # declared cross-sectional: passes


@pytest.mark.parametrize("broken, message", [(ModifiesThePanel, "modified the panel's field 'close'"),
                                              (WrongShape, "score has shape")], ids=["modifies", "shape"])
def test_check_factor_fails_on_side_effects_and_shapes(broken, message):
    with pytest.raises(ContractError, match=message):
        check_factor(broken, kit.make_panel(), cross_sectional=True)


def test_check_factor_refuses_a_panel_shorter_than_the_warm_up():
    with pytest.raises(ContractError, match="too few for a warm-up"):
        check_factor(Momentum, kit.make_panel(["2330"], "2020-01-02", "2020-01-10"))


# -- rules, routers, brokers ------------------------------------------------------------------------------


def test_check_rule_passes_a_builtin_rule_on_a_real_order(panel):
    verdicts = check_rule(OrderSizeRule, panel=panel)
    assert set(verdicts) == {"parent", "child"} and not any(v.denied for v in verdicts.values())


class ReturnsNothing(RiskRule):
    """Forgets to return a verdict."""

    name = "returns_nothing"

    def check(self, order, context):
        return None


class WrongRuleName(RiskRule):
    """Names another rule in its verdict."""

    name = "wrong_rule_name"

    def check(self, order, context):
        return Verdict.approve("someone_else", order)


class RemembersOrders(RiskRule):
    """Keeps state of its own: the second identical question gets another answer."""

    name = "remembers_orders"

    def __init__(self, params=None):
        super().__init__(params)
        self.seen = set()

    def check(self, order, context):
        key = (order.client_order_id, context.stage)
        if key in self.seen:
            return Verdict.deny(self.name, f"{self.name}: seen {order.client_order_id}")
        self.seen.add(key)
        return Verdict.approve(self.name, order)


@pytest.mark.parametrize("broken, message", [(ReturnsNothing, "not a jgod_core.Verdict"),
                                              (WrongRuleName, "must name 'wrong_rule_name'"),
                                              (RemembersOrders, "a rule judges, the engine keeps the state")],
                         ids=lambda x: x.__name__ if isinstance(x, type) else "")
def test_check_rule_fails_a_broken_rule(panel, broken, message):
    with pytest.raises(ContractError, match=message):
        check_rule(broken, panel=panel)


def test_check_router_passes_the_slicer(panel):
    children = check_router(SlicerRouter, panel=panel, lots=120)
    assert [c.quantity for c in children] == [20_000, 50_000, 50_000]


class LosesALot(Router):
    """Drops the last lot of every parent."""

    name = "loses_a_lot"

    def schedule(self, approved, market=None):
        parent = approved.order
        values = {f.name: getattr(parent, f.name) for f in dataclasses.fields(parent)}
        return [ChildOrder(**{**values, "client_order_id": f"{parent.client_order_id}-001",
                              "quantity": parent.quantity - 1000, "parent_id": parent.client_order_id})]


def test_check_router_fails_a_router_whose_children_do_not_add_up(panel):
    with pytest.raises(ContractError, match="router produced 11000 shares .* approved 12000"):
        check_router(LosesALot, panel=panel)


def test_check_broker_passes_the_paper_broker_on_the_days_real_bar(panel):
    fills = check_broker(PaperBroker, panel=panel)
    assert len(fills) == 1 and fills[0].quantity == 1000 and fills[0].basis == "daily_bar_estimate"


class SendsTwice(Broker):
    """Fills every submit, even a retry of the same approval, and charges a rebate."""

    name = "sends_twice"

    def submit(self, approved):
        o = approved.order
        return [Fill(o.client_order_id, o.symbol, o.side, o.quantity, o.limit_price, 20, 0)]

    def cancel_all(self, reason=""):
        return []


class PaysARebate(SendsTwice):
    """Negative commission."""

    name = "pays_a_rebate"

    def __init__(self, params=None):
        super().__init__(params)
        self.sent = set()

    def submit(self, approved):
        o = approved.order
        if o.client_order_id in self.sent:
            return []
        self.sent.add(o.client_order_id)
        return [Fill(o.client_order_id, o.symbol, o.side, o.quantity, o.limit_price, -20, 0)]


@pytest.mark.parametrize("broken, message", [(SendsTwice, "submitted twice was sent twice"),
                                              (PaysARebate, "costs are never negative")], ids=["twice", "rebate"])
def test_check_broker_fails_a_broken_broker(panel, broken, message):
    with pytest.raises(ContractError, match=message):
        check_broker(broken, panel=panel)


# -- every installed rule, router and broker meets its contract ---------------------------------------


class WithMinuteBars:
    """The sample market view plus the real TX one-minute bars as the market-wide recording (for VWAP/POV)."""

    def __init__(self, view):
        self.view = view
        path = files("jgod_plugins.data") / "sample_data" / "intraday" / \
            "taifex_tx_near_month_1min_2026-05-12_2026-06-23.csv.gz"
        minutes = pd.read_csv(path)
        self.minutes = minutes[minutes["session"] == "day"]

    def intraday_bars(self, symbol):
        return self.minutes if symbol == "*" else None

    def __getattr__(self, name):
        return getattr(self.view, name)


def _installed(kind: str):
    from jgod_core import ComponentKind, load_kernel

    registry = load_kernel().registry
    return [registry.get(ComponentKind(kind), name) for name in registry.names(ComponentKind(kind))]


@pytest.mark.parametrize("entry", _installed("risk_rule"), ids=lambda e: e.name)
def test_every_installed_risk_rule_meets_check_rule(panel, entry):
    check_rule(entry.cls, panel=panel)


@pytest.mark.parametrize("entry", _installed("router"), ids=lambda e: e.name)
def test_every_installed_router_meets_check_router(panel, entry):
    market = WithMinuteBars(kit.market_view(panel))
    children = check_router(entry.cls, panel=panel, market=market, lots=30)
    assert sum(c.quantity for c in children) == 30_000


def test_the_paper_broker_meets_check_broker_on_several_real_days(panel):
    for date in ("2018-02-06", "2020-03-19", "2020-12-31"):  # a sell-off day, the COVID low, the last day
        for fill in check_broker(PaperBroker, panel=panel, date=date, lots=3):
            assert fill.quantity % 1000 == 0 and fill.commission >= 20
