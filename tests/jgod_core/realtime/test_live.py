"""The live intraday loop on a virtual clock: same decisions as the replay, clean stops, faults, metrics."""

from __future__ import annotations

import datetime as dt
import threading

import httpx
import pandas as pd
import pytest

from jgod_core.plugin.components import Phase
from jgod_core.realtime.clock import LoopClock, VirtualTimeLoop
from jgod_core.realtime.feed import ConnectionState
from jgod_core.realtime.metrics import RealtimeMetrics
from jgod_core.realtime.session import IntradaySession
from jgod_core.scheduling import scheduler as sched
from jgod_plugins.feeds.replay import ReplayFeed

DAY = dt.date(2026, 5, 28)  # a recorded TX session
TX_ONLY = """
version: 1
name: live_test
market: TAIFEX
phases:
  intraday:
    schedule: "09:00"
    end: "13:30"
    steps:
      - name: tx_bars
        plugin: replay
        params: {recording: taifex_tx_1min, symbol: TX, session: day, role: futures, stale_after_seconds: 90}
      - plugin: f_stat_live
        weight: 1.0
      - plugin: f_exec_live
        weight: 0.5
      - plugin: intraday_signal
        params: {entry_score: 2.0, exit_score: 0.5, max_position: 1, decision_seconds: 60, tick_size: 1.0}
risk:
  rules:
    - plugin: price_band
    - plugin: duplicate_order
    - plugin: circuit_breaker
execution:
  broker:
    plugin: paper
"""


def taipei_ns(hhmm: str) -> int:
    return pd.Timestamp(f"{DAY} {hhmm}", tz="Asia/Taipei").value


@pytest.fixture
def virtual():
    """A virtual-time loop; ``virtual(start)`` gives its clock starting at ``start`` (HH:MM Taipei)."""
    loop = VirtualTimeLoop()
    yield lambda start: LoopClock(loop, taipei_ns(start))
    loop.close()


def test_live_loop_on_a_virtual_clock_takes_exactly_the_replays_decisions(pipeline_from_yaml, virtual):
    replay = IntradaySession(pipeline_from_yaml(TX_ONLY)).replay(DAY)
    live = IntradaySession(pipeline_from_yaml(TX_ONLY)).run_live(DAY, taipei_ns("13:50"), clock=virtual("08:40"))
    assert live.events == replay.events == 301
    assert live.decisions == replay.decisions
    assert len(live.orders) > 0
    assert live.orders_sha256 == replay.orders_sha256


def test_live_loop_stops_at_its_end_time_and_disconnects_every_feed(pipeline_from_yaml, virtual):
    from jgod_core.realtime.live import LiveLoop

    clock = virtual("09:00")
    loop = LiveLoop(IntradaySession(pipeline_from_yaml(TX_ONLY)), DAY, taipei_ns("10:00"), clock)
    result = clock.loop.run_until_complete(loop.run())
    # bars ending 09:00 … 10:00: joining at 09:00 sees the bar stamped 09:00, nothing earlier
    assert result.events == 61 and result.decisions == 61
    assert result.orders["decision_time"].max() <= "2026-05-28T10:00:00"
    assert all(fs.state is ConnectionState.DISCONNECTED for fs in loop.feed_sessions)
    assert loop.feed_sessions[0].history[-1].detail == "stopped"


def test_stop_request_ends_the_loop_within_a_second_of_session_time(pipeline_from_yaml, virtual):
    clock = virtual("09:00")
    stop = threading.Event()
    clock.loop.call_later(30 * 60, stop.set)  # SIGTERM at 09:30 (virtual)
    result = IntradaySession(pipeline_from_yaml(TX_ONLY)).run_live(DAY, taipei_ns("13:30"), stop, clock)
    assert result.decisions == 30  # 09:00 … 09:29; the 09:30 one would run after the stop
    assert clock.now_ns() - taipei_ns("09:30") <= 1_000_000_000


class DroppingTransport:
    """Wraps the replay transport: the link drops at ``drop_at`` and refuses reconnects until ``back_at``."""

    def __init__(self, inner, clock, drop_at, back_at):
        self.inner, self.clock, self.drop_at, self.back_at = inner, clock, drop_at, back_at
        self.dropped = False

    async def connect(self):
        if self.dropped and self.clock.now_ns() < self.back_at:
            raise ConnectionRefusedError("injected: exchange gateway down")
        await self.inner.connect()

    async def subscribe(self, symbols):
        await self.inner.subscribe(symbols)

    async def receive(self):
        events = await self.inner.receive()
        if not self.dropped and events[0].exchange_ns >= self.drop_at:
            self.dropped = True
            raise ConnectionResetError("injected disconnect")
        return events

    async def snapshot(self, symbol):
        return await self.inner.snapshot(symbol)

    async def close(self):
        await self.inner.close()


def test_a_feed_outage_blocks_orders_backs_off_reconnects_and_resumes(pipeline_from_yaml, virtual, monkeypatch):
    clock = virtual("09:00")
    drop_at, back_at = taipei_ns("09:20"), taipei_ns("09:40")
    original = ReplayFeed.transport
    wrappers = []

    def transport(self, clk, day, source="replay"):
        wrappers.append(DroppingTransport(original(self, clk, day, source), clk, drop_at, back_at))
        return wrappers[-1]

    monkeypatch.setattr(ReplayFeed, "transport", transport)
    metrics = RealtimeMetrics()
    result = IntradaySession(pipeline_from_yaml(TX_ONLY), metrics).run_live(DAY, taipei_ns("11:00"), clock=clock)
    # 09:00 … 09:19 arrive, 09:20 is lost with the link, and after the first retry past 09:40 the feed
    # joins at 09:41 (a live feed sends no history on reconnect): 20 + 80 bars up to 11:00
    assert result.events == 100
    times = result.orders["decision_time"]
    assert not times.between("2026-05-28T09:20:00", "2026-05-28T09:40:59").any()  # no order on a dead feed
    assert metrics.registry.get_sample_value("jgod_feed_reconnects_total", {"source": "tx_bars"}) == 1
    kinds = [(a.kind, a.message) for a in result.alerts if a.kind in ("blocked", "recovered")]
    assert kinds == [("blocked", "TX blocked: feed tx_bars not connected"), ("recovered", "TX unblocked")]


class FreezingTransport(DroppingTransport):
    """Stays connected but sends nothing stamped after ``drop_at`` until ``back_at`` (a frozen feed)."""

    async def receive(self):
        while True:
            events = await self.inner.receive()
            if not self.drop_at <= events[0].exchange_ns < self.back_at:
                return events


def test_a_frozen_feed_goes_stale_gets_no_order_and_recovers(pipeline_from_yaml, virtual, monkeypatch):
    clock = virtual("09:00")
    original = ReplayFeed.transport
    monkeypatch.setattr(ReplayFeed, "transport", lambda self, clk, day, source="replay": FreezingTransport(
        original(self, clk, day, source), clk, taipei_ns("09:30"), taipei_ns("09:50")))
    result = IntradaySession(pipeline_from_yaml(TX_ONLY)).run_live(DAY, taipei_ns("10:30"), clock=clock)
    # 09:00 … 09:29, then the 09:50 bar shows a sequence gap: dropped, resynced, 09:51 … 10:30 accepted
    assert result.events == 30 + 40 and result.dropped == {"gap": 1}
    kinds = [a.kind for a in result.alerts if a.kind in ("stale", "recovered")]
    assert kinds == ["stale", "recovered"]
    stale = next(a for a in result.alerts if a.kind == "stale")
    assert stale.exchange_ns == taipei_ns("09:31")  # 90 s after the last bar (09:29) at the next decision time
    assert not result.orders["decision_time"].between("2026-05-28T09:30:00", "2026-05-28T09:49:59").any()


def test_intraday_phase_of_serve_runs_the_live_loop_and_fills_the_metrics_endpoint(tmp_path, virtual):
    from jgod_core.config.validate import load_pipeline

    pipeline = load_pipeline("pipelines/tw_intraday.yaml")
    metrics = RealtimeMetrics()
    server, thread = metrics.serve(0)
    try:
        detail = sched.execute_phase(pipeline, Phase.INTRADAY, DAY, tmp_path, metrics=metrics,
                                     clock=virtual("09:00"))
        body = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).text
    finally:
        server.shutdown()
    assert detail.startswith("live loop ended 13:30")
    assert (tmp_path / "tw_intraday" / DAY.isoformat() / "intraday" / "orders.csv").exists()
    samples = {line.split(" ")[0]: float(line.split(" ")[1]) for line in body.splitlines()
               if line and not line.startswith("#")}
    assert samples['jgod_events_total{kind="bar",source="tx_bars"}'] == 271  # bars ending 09:00 … 13:30
    assert samples['jgod_events_total{kind="book",source="btc_book"}'] > 1000
    assert samples['jgod_events_total{kind="trade",source="btc_book"}'] > 1000
    assert samples['jgod_feed_latency_ms_count{source="tx_bars"}'] > 0
    assert samples['jgod_feed_state{source="tx_bars"}'] == 0  # disconnected after the end
    orders = pd.read_csv(tmp_path / "tw_intraday" / DAY.isoformat() / "intraday" / "orders.csv")
    halted = orders["reason"].fillna("").str.contains("HALTED").any()  # the breaker may halt on real P&L
    assert samples["jgod_trading_state"] == (2 if halted else 0)
    assert sum(v for k, v in samples.items() if k.startswith("jgod_orders_total")) > 0


def test_no_order_before_the_phase_schedule_while_feeds_and_decisions_run_from_the_warmup(pipeline_from_yaml, virtual):
    live = IntradaySession(pipeline_from_yaml(TX_ONLY)).run_live(DAY, taipei_ns("10:00"), clock=virtual("08:30"))
    assert live.decisions > 60  # decisions from 08:46 (the first bar) on: the processor warms up
    assert len(live.orders) > 0 and live.orders["decision_time"].min() >= "2026-05-28T09:00:00"  # schedule 09:00


def _scripted_bars(closes, first_minute="09:01"):
    from jgod_core.data.events import BAR, EventBatch

    batch = EventBatch.empty(len(closes))
    batch.kind[:] = BAR
    batch.symbol[:] = 0
    batch.exchange_ns[:] = taipei_ns(first_minute) + 60_000_000_000 * pd.RangeIndex(len(closes)).to_numpy()
    batch.receive_ns[:] = batch.exchange_ns
    for name in ("open", "high", "low", "price"):
        getattr(batch, name)[:] = closes
    batch.size[:] = 100.0
    batch.seq[:] = pd.RangeIndex(len(closes)).to_numpy()
    return batch


def test_a_scripted_losing_sequence_trips_the_5_minute_sharpe_breaker_halts_and_cancels_open_orders(pipeline_from_yaml):
    from decimal import Decimal

    from jgod_core.execution.orders import ChildOrder, Order, OrderStatus, Side, TradingState
    from jgod_core.realtime.session import _Decider
    from jgod_core.risk.engine import RiskContext
    from jgod_plugins.tw_market.instruments import AssetClass

    session = IntradaySession(pipeline_from_yaml(TX_ONLY))
    decider = _Decider(session, DAY, [["TX"]])
    decider.positions["TX"] = 1  # long one contract bought at 45,000
    decider.cash = -45_000 * 200.0
    decider.now = dt.datetime(2026, 5, 28, 9, 0)
    ctx = RiskContext(decider.now)
    resting = Order("rest", "TX", Side.BUY, 1, Decimal("40500"), Decimal("44798"), asset=AssetClass.FUTURE)
    parent = decider.risk.check(resting, ctx).approved
    child = ChildOrder(**{f: getattr(resting, f) for f in ("symbol", "side", "quantity", "limit_price",
                                                           "reference_price", "asset")},
                       client_order_id="rest-0", parent_id="rest")
    session.broker.submit(decider.risk.check_child(parent, child, ctx).approved)
    closes = [45000.0, 44990.0, 44975.0, 44960.0, 44940.0, 44915.0]  # NT$ P&L per minute: 0, −2k, −3k, −3k, −4k, −5k
    bars = _scripted_bars(closes)
    for k in range(len(closes)):
        decider.decide(bars.take(slice(k, k + 1)), int(bars.exchange_ns[k]))
        if decider.risk.state is TradingState.HALTED:
            break
    # halted on the 5th update (09:05): Sharpe of [0, −2000, −3000, −3000, −4000] = −2400 / 1516.6 = −1.583 < −0.5
    assert decider.risk.state is TradingState.HALTED and k == 4
    change = decider.risk.state_store.current()
    assert change.actor == "circuit_breaker" and "5-minute Sharpe -1.583" in change.reason
    assert session.broker.working["rest-0"].status is OrderStatus.CANCELLED
    assert decider.pnl_values == [0.0, -2000.0, -3000.0, -3000.0, -4000.0]
