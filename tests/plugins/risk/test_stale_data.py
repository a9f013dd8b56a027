"""stale_data: blocked or stale symbols get no order; the realtime loop wires the health monitor in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd

from jgod_core.execution.orders import Order, Side
from jgod_core.realtime.health import HealthMonitor
from jgod_core.realtime.session import IntradaySession
from jgod_core.risk.engine import RiskContext, RiskEngine
from jgod_plugins.risk.stale_data import StaleDataParams, StaleDataRule
from jgod_plugins.tw_market.instruments import AssetClass

NOW = dt.datetime(2026, 5, 28, 10, 0)
ORDER = Order("o1", "TX", Side.BUY, 1, Decimal("45000"), Decimal("44798"), asset=AssetClass.FUTURE)


def test_fresh_data_passes():
    ctx = RiskContext(NOW, last_data={"TX": NOW - dt.timedelta(seconds=60)})
    assert not StaleDataRule().check(ORDER, ctx).denied


def test_data_older_than_the_threshold_is_denied_with_its_age():
    ctx = RiskContext(NOW, last_data={"TX": NOW - dt.timedelta(seconds=91)})
    verdict = StaleDataRule(StaleDataParams(max_age_seconds=90)).check(ORDER, ctx)
    assert verdict.denied and "91.0 s old (limit 90 s" in verdict.reason
    assert verdict.numbers["age_seconds"] == 91.0


def test_a_symbol_the_health_monitor_blocks_is_denied_with_the_monitors_reason():
    ctx = RiskContext(NOW, last_data={"TX": NOW}, blocked={"TX": "feed tx_bars not connected"})
    verdict = StaleDataRule().check(ORDER, ctx)
    assert verdict.denied and "blocked by the health monitor (feed tx_bars not connected)" in verdict.reason


def test_a_symbol_without_any_data_is_denied():
    verdict = StaleDataRule().check(ORDER, RiskContext(NOW, last_data={"2330": NOW}))
    assert verdict.denied and "no market data recorded for TX" in verdict.reason


def test_the_gate_denies_through_the_rule_before_any_broker_sees_the_order():
    ctx = RiskContext(NOW, last_data={"TX": NOW - dt.timedelta(minutes=5)})
    decision = RiskEngine([StaleDataRule()]).check(ORDER, ctx)
    assert decision.denied and decision.reason.startswith("stale_data:")


def test_the_realtime_context_carries_the_health_block_list_and_each_symbols_last_event_time():
    health = HealthMonitor()
    health.add_source("tx_bars", ["TX"], 90)
    last = pd.Timestamp("2026-05-28 09:58:30", tz="Asia/Taipei").value
    health.on_event("tx_bars", "TX", last, last)
    health.block("TX", "resyncing after a sequence gap", last)
    ctx = IntradaySession._context(None, NOW, {}, ["TX"], [45000.0], [], [], {"TX": 200}, health, zone="Asia/Taipei")
    assert ctx.blocked == {"TX": "resyncing after a sequence gap"}
    assert ctx.last_data == {"TX": dt.datetime(2026, 5, 28, 9, 58, 30)}
    assert ctx.multipliers == {"TX": 200}
    assert StaleDataRule().check(ORDER, ctx).denied
    health.unblock("TX", last)
    ctx = IntradaySession._context(None, NOW, {}, ["TX"], [45000.0], [], [], {"TX": 200}, health, zone="Asia/Taipei")
    assert not StaleDataRule().check(ORDER, ctx).denied  # 90 s old: at the limit, still fresh
