"""The live intraday loop: feed sessions → processor → factors → signal → risk gate → broker.

:class:`LiveLoop` runs one :class:`~jgod_core.realtime.feed.FeedSession` per feed step of the
pipeline (Shioaji, Polygon, replay …: each feed gives ``symbols()``, ``transport(clock, day,
source)``, ``decode`` and ``contiguous_seq``) and one decision timer, all on one
:class:`~jgod_core.realtime.clock.LoopClock`, until ``end_ns`` or a stop request (SIGTERM).

Accepted events wait in a buffer. The decision of grid time ``t`` (every ``decision_seconds``)
runs at ``t + decision_settle_ms`` — so events stamped up to ``t`` still in transit are
included — and applies exactly the buffered events stamped ``≤ t`` (ordered on exchange time,
then feed order), the same slice the replay decides on. The decision itself is the replay's
(:class:`jgod_core.realtime.session._Decider`); on top, a symbol whose feed is not connected or
is resyncing after a gap is blocked. Metrics (events, latency, feed states, reconnects,
trading state, orders, alerts) are updated as they happen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import threading
from typing import Any

from jgod_core.data.events import EventBatch, MarketEvent
from jgod_core.realtime.clock import LoopClock
from jgod_core.realtime.feed import ConnectionState, FeedSession

log = logging.getLogger("jgod.realtime.live")
STOP_POLL_SECONDS = 1.0


class LiveLoop:
    """One live session of an :class:`~jgod_core.realtime.session.IntradaySession`."""

    def __init__(self, session: Any, date: dt.date, end_ns: int, clock: LoopClock,
                 stop: threading.Event | None = None, rng: random.Random | None = None) -> None:
        from jgod_core.realtime.session import SessionError, _Decider

        self.session = session
        self.date = date
        self.end_ns = end_ns
        self.clock = clock
        self.stop = stop or threading.Event()
        self.metrics = session.metrics
        for name, feed in session.feeds:
            if not hasattr(feed, "transport"):
                raise SessionError(f"feed {name!r} ({feed.name}) has no live transport")
        feed_symbols = [list(feed.symbols()) for _, feed in session.feeds]
        self.decider = _Decider(session, date, feed_symbols)
        self.buffer: list[tuple[int, int, int, MarketEvent]] = []  # (exchange ns, feed, arrival, event)
        self._arrivals = 0
        self.feed_sessions: list[FeedSession] = []
        for order, ((name, feed), symbols) in enumerate(zip(session.feeds, feed_symbols)):
            self.feed_sessions.append(FeedSession(
                name, feed.transport(clock, date, name), feed.decode, symbols, self._sink(order),
                getattr(feed, "backoff", None), contiguous_seq=getattr(feed, "contiguous_seq", True),
                rng=rng, wall_clock=lambda: clock.now_ns() / 1e9, on_state=self._on_state))

    def _sink(self, feed_order: int):
        def sink(event: MarketEvent) -> None:
            self._arrivals += 1
            self.buffer.append((event.exchange_ns, feed_order, self._arrivals, event))
        return sink

    def _on_state(self, name: str, state: ConnectionState) -> None:
        self.metrics.set_feed_state(name, state)
        if state is ConnectionState.CONNECTED:
            fs = next((f for f in self.feed_sessions if f.name == name), None)
            if fs is not None and fs.connects > 1:
                self.metrics.reconnects.labels(name).inc()

    def _take(self, t_ns: int) -> EventBatch | None:
        """The buffered events stamped ≤ ``t_ns``, ordered on the one clock (the rest stay)."""
        due = [item for item in self.buffer if item[0] <= t_ns]
        if not due:
            return None
        self.buffer = [item for item in self.buffer if item[0] > t_ns]
        due.sort(key=lambda item: item[:3])
        index = self.decider.index
        known = [item[3] for item in due if item[3].symbol in index]
        return EventBatch.from_events(known, index) if known else None

    def _block_unhealthy_feeds(self, t_ns: int) -> None:
        health = self.decider.health
        for fs in self.feed_sessions:
            for sym in fs.symbols:
                if fs.tradable(sym):
                    health.unblock(sym, t_ns)
                elif fs.state is not ConnectionState.CONNECTED:
                    health.block(sym, f"feed {fs.name} not connected", t_ns)
                else:
                    health.block(sym, "resyncing after a sequence gap", t_ns)

    async def _decisions(self) -> None:
        signal = self.session.signal
        grid = signal.decision_seconds() * 1_000_000_000
        settle = signal.decision_settle_ns()
        t = -(-self.clock.now_ns() // grid) * grid
        while t <= self.end_ns and not self.stop.is_set():
            await self.clock.sleep_until(t + settle)
            self._block_unhealthy_feeds(t)
            chunk = self._take(t)
            if chunk is not None:
                self.decider.decide(chunk, t, self.clock.now_ns)
            else:
                self.decider.check_health(t)
            t += grid

    async def _watch_stop(self) -> None:
        while not self.stop.is_set():
            await asyncio.sleep(STOP_POLL_SECONDS)
        log.info("stop requested: ending the intraday loop")

    async def run(self):
        """Run until the end time or a stop request; close every feed; the session's result."""
        log.info("intraday loop %s: %d feeds until %s", self.date, len(self.feed_sessions),
                 dt.datetime.fromtimestamp(self.end_ns / 1e9, dt.timezone.utc).isoformat())
        feeds = [asyncio.create_task(fs.run(), name=f"feed:{fs.name}") for fs in self.feed_sessions]
        decisions = asyncio.create_task(self._decisions(), name="decisions")
        watcher = asyncio.create_task(self._watch_stop(), name="stop-watch")
        try:
            pending: set[asyncio.Task] = {decisions, watcher, *feeds}
            while decisions in pending and watcher in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:  # a feed that raised (e.g. missing credentials) ends the session loudly;
                    if task.exception() is not None:  # one that gave up reconnecting leaves its symbols blocked
                        raise task.exception()
        finally:
            for fs in self.feed_sessions:
                fs.stop()
            for task in (decisions, watcher, *feeds):
                task.cancel()
            await asyncio.gather(decisions, watcher, *feeds, return_exceptions=True)
        dropped = {}
        for fs in self.feed_sessions:
            for verdict, n in fs.guard.counts.items():
                if verdict != "accept" and n:
                    dropped[verdict] = dropped.get(verdict, 0) + n
        return self.decider.finish(dropped)
