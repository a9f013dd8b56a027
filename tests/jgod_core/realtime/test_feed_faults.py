"""Fault injection at the socket boundary: disconnects, bursts, duplicates, reordering, gaps, skew, frozen feeds."""

from __future__ import annotations

import asyncio
import random

import pytest

from jgod_core.data.events import TRADE, MarketEvent
from jgod_core.realtime.feed import BackoffParams, ConnectionState, FeedSession, SequenceGuard
from jgod_core.realtime.health import HealthMonitor, HealthParams
from jgod_plugins.intraday.processor import IntradayProcessor

SEC = 1_000_000_000
T0 = 1_780_000_000 * SEC


def ev(seq, t=0, sym="TX", px=100.0):
    return MarketEvent("fake", sym, TRADE, T0 + t, T0 + t, seq, px, 1.0, 1)


class FakeTransport:
    """Scripted transport: each connection plays a list of messages, then drops (or stays open)."""

    def __init__(self, sessions, snapshot_seq=None):
        self.sessions = list(sessions)
        self.subscriptions: list[tuple[str, ...]] = []
        self.snapshots: list[str] = []
        self.snapshot_seq = snapshot_seq or {}
        self.current: list = []
        self.fail_connects = 0

    async def connect(self):
        if self.fail_connects:
            self.fail_connects -= 1
            raise ConnectionRefusedError("injected refusal")
        if not self.sessions:
            raise ConnectionRefusedError("script over")
        self.current = list(self.sessions.pop(0))

    async def subscribe(self, symbols):
        self.subscriptions.append(tuple(symbols))

    async def receive(self):
        await asyncio.sleep(0)
        if not self.current:
            raise ConnectionResetError("injected disconnect")
        return self.current.pop(0)

    async def snapshot(self, symbol):
        self.snapshots.append(symbol)
        seq = self.snapshot_seq.get(symbol, -1)
        return [ev(seq, 0, symbol)] if seq >= 0 else []

    async def close(self):
        pass


def _session(transport, sink, backoff, delays, symbols=("TX", "2330")):
    async def fake_sleep(seconds):
        delays.append(seconds)

    session = FeedSession("fake", transport, lambda m: m, symbols, sink, backoff,
                          sleep=fake_sleep, rng=random.Random(7))
    session.backoff = backoff.model_copy(update={"max_attempts": 3})
    return session


def test_50_injected_disconnects_reconnect_within_backoff_bounds_and_resubscribe():
    backoff = BackoffParams(initial_seconds=2.0, multiplier=1.5, max_seconds=30.0, jitter_seconds=0.1)
    sessions = [[[ev(i * 10 + k, k)] for k in range(3)] for i in range(51)]
    transport = FakeTransport(sessions)
    transport.fail_connects = 0
    got, delays = [], []
    session = _session(transport, got.append, backoff, delays)
    asyncio.run(session.run())
    assert session.reconnects == 50
    assert transport.subscriptions == [("TX", "2330")] * 51
    # every drop after a successful connect resets the failure count: first retry delay each time
    for d in delays[:50]:
        assert 2.0 <= d <= 2.0 + 0.1
    assert all(s is not ConnectionState.ERROR for s in [session.state])
    states = [h.what for h in session.history if h.what.startswith("state:")]
    assert states[:3] == ["state:connecting", "state:connected", "state:error"]


def test_backoff_grows_by_multiplier_to_the_cap_with_bounded_jitter():
    backoff = BackoffParams()
    rng = random.Random(1)
    for attempt in range(20):
        base = min(30.0, 2.0 * 1.5 ** attempt)
        d = backoff.delay(attempt, rng)
        assert base <= d <= base + 0.1


def test_consecutive_refusals_back_off_exponentially():
    backoff = BackoffParams(max_attempts=None)
    transport = FakeTransport([[]])
    transport.sessions = []
    delays: list[float] = []
    session = _session(transport, lambda e: None, backoff, delays)
    session.backoff = backoff.model_copy(update={"max_attempts": 8})
    asyncio.run(session.run())
    for k, d in enumerate(delays):
        base = min(30.0, 2.0 * 1.5 ** k)
        assert base <= d <= base + 0.1
    assert session.state is ConnectionState.DISCONNECTED


def test_duplicates_and_out_of_order_are_dropped_and_gap_triggers_snapshot_before_resuming():
    msgs = [[ev(1)], [ev(2)], [ev(2)], [ev(1)], [ev(3)], [ev(7)], [ev(8)]]
    transport = FakeTransport([msgs], snapshot_seq={"TX": 10})
    got, delays = [], []
    session = _session(transport, got.append, BackoffParams(), delays, symbols=("TX",))
    session.backoff = BackoffParams(max_attempts=1)
    asyncio.run(session.run())
    seqs = [e.seq for e in got]
    # snapshot at connect (seq 10) re-anchors: 1,2,3,7,8 are all older than it and dropped
    assert seqs == [10]
    assert transport.snapshots == ["TX"]


def test_gap_mid_stream_refreshes_from_snapshot_and_logs_recovery():
    guard_msgs = [[ev(11)], [ev(12)], [ev(15)], [ev(16)], [ev(21)]]
    transport = FakeTransport([guard_msgs], snapshot_seq={"TX": 10})
    got: list = []
    session = _session(transport, got.append, BackoffParams(), [], symbols=("TX",))
    session.backoff = BackoffParams(max_attempts=1)
    transport.snapshot_seq = {"TX": 10}
    original = transport.snapshot

    async def snapshot(symbol):
        events = await original(symbol)
        transport.snapshot_seq[symbol] = 20  # the next snapshot is taken after the gap
        return events

    transport.snapshot = snapshot
    asyncio.run(session.run())
    assert [e.seq for e in got] == [10, 11, 12, 20, 21]
    assert [h.what for h in session.history].count("gap") == 1
    assert [h.what for h in session.history].count("resynced") == 2


def test_sequence_guard_burst_with_duplicates_and_reordering_keeps_each_event_once():
    guard = SequenceGuard(contiguous=False)
    stream = list(range(1000)) + list(range(500, 600)) + list(range(1000, 2000))
    random.Random(3).shuffle(stream[1000:1100])
    accepted = [s for s in stream if guard.check(ev(s)).value == "accept"]
    assert accepted == sorted(set(accepted)) and len(accepted) == 2000 - 0


def test_frozen_feed_makes_its_symbol_stale_and_blocks_orders_then_recovers():
    health = HealthMonitor(HealthParams())
    health.add_source("tx", ["TX"], stale_after_seconds=5)
    health.add_source("es", ["ES"], stale_after_seconds=5)
    health.on_event("tx", "TX", T0, T0)
    health.on_event("es", "ES", T0, T0)
    for k in range(1, 20):  # ES keeps ticking, TX is frozen
        health.on_event("es", "ES", T0 + k * SEC, T0 + k * SEC)
    ok, why = health.can_trade("TX", T0 + 19 * SEC)
    assert not ok and "stale" in why
    assert health.can_trade("ES", T0 + 19 * SEC)[0]
    health.on_event("tx", "TX", T0 + 20 * SEC, T0 + 20 * SEC)
    assert health.can_trade("TX", T0 + 20 * SEC)[0]
    assert [a.kind for a in health.alerts] == ["stale", "recovered"]


def test_clock_skew_between_feeds_is_estimated_and_latency_alerts_above_100ms():
    health = HealthMonitor(HealthParams(offset_samples=10))
    health.add_source("ahead", ["BTC"], stale_after_seconds=5)  # exchange stamps 1.3 s ahead of ours
    for k in range(10):
        health.on_event("ahead", "BTC", T0 + k * SEC + 1_300_000_000, T0 + k * SEC + 2_000_000)
    assert any(a.kind == "clock_skew" for a in health.alerts)
    fast = health.on_decision("ahead", T0 + 10 * SEC + 1_300_000_000, T0 + 10 * SEC + 3_000_000)
    assert fast < 100
    slow = health.on_decision("ahead", T0 + 11 * SEC + 1_300_000_000, T0 + 11 * SEC + 250_000_000)
    assert slow > 100 and health.alerts[-1].kind == "latency"


def test_processor_survives_a_burst_of_invalid_and_out_of_order_times():
    proc = IntradayProcessor(["TX"])
    rng = random.Random(5)
    for _ in range(5000):
        t = T0 + rng.randrange(-10 * SEC, 10 * SEC)
        px = rng.choice([100.0, float("nan"), -1.0, 101.0, float("inf")])
        proc.on_trade(0, t, px, rng.choice([1.0, 0.0, -2.0]), rng.choice([-1, 0, 1]))
    assert proc.rejected > 0
    assert proc.last_price()[0] in (100.0, 101.0)


@pytest.mark.slow
def test_soak_500_disconnects():
    backoff = BackoffParams()
    transport = FakeTransport([[[ev(i * 10 + k, k)] for k in range(5)] for i in range(501)])
    delays: list[float] = []
    session = _session(transport, lambda e: None, backoff, delays)
    asyncio.run(session.run())
    assert session.reconnects == 500
