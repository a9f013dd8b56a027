"""The intraday loop: feeds → processor → intraday factors → signal → risk gate → broker.

:class:`IntradaySession` is built from a pipeline's intraday phase (feed and factor steps and one
engine step subclassing :class:`jgod_core.realtime.signal.IntradaySignal`, which supplies the
processor), its risk rules (judged by :class:`jgod_core.risk.engine.RiskEngine`,
the one gate) and its broker. :meth:`IntradaySession.replay` plays recorded feeds for one date
on the exchange clock and is deterministic: decisions are taken on exchange time only, never
on wall time, so the same recording and pipeline give a byte-identical order list.

Per decision (every ``decision_seconds`` of exchange time that has events): the batch of
events since the last decision goes through the fused kernel in one call; the health monitor
records freshness; the factors score the processor's components; the signal gives a target
position per tradable symbol; a symbol that is stale or resyncing gets no order; the circuit
breaker (the pipeline's ``circuit_breaker`` rule, if any) may halt the gate; every order is
judged by the risk engine (parent, then its one child) before the broker sees it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from jgod_core.data.events import BAR, KIND_NAMES, TRADE, EventBatch
from jgod_core.errors import JGodError
from jgod_core.plugin.components import ComponentKind, Phase
from jgod_core.realtime.clock import LoopClock
from jgod_core.realtime.feed import SequenceGuard
from jgod_core.realtime.health import HealthMonitor
from jgod_core.realtime.metrics import RealtimeMetrics
from jgod_core.realtime.signal import IntradaySignal
from jgod_core.venue import venue_for

log = logging.getLogger("jgod.realtime.session")
ORDER_COLUMNS = ("client_order_id", "decision_time", "symbol", "side", "quantity", "limit_price",
                 "reference_price", "score", "target", "position_before", "approved_quantity", "outcome", "reason")


class SessionError(JGodError):
    """The pipeline cannot run an intraday session (what is missing is named)."""


@dataclass
class ReplayResult:
    """What an intraday session produced: its orders and fills, counts, dropped events by verdict,
    health alerts, the orders' sha256 and why absent components are absent."""

    orders: pd.DataFrame
    fills: pd.DataFrame
    decisions: int
    events: int
    dropped: dict[str, int]
    alerts: list
    orders_sha256: str
    missing: dict[str, str] = field(default_factory=dict)


def orders_csv_bytes(orders: pd.DataFrame) -> bytes:
    """The canonical bytes of an order list (what the printed sha256 covers)."""
    buf = io.StringIO()
    orders.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


class IntradaySession:
    """One trading session of an intraday pipeline."""

    def __init__(self, pipeline: Any, metrics: RealtimeMetrics | None = None) -> None:
        self.pipeline = pipeline
        steps = pipeline.phase_steps(Phase.INTRADAY)
        self.feed_steps = [s for s in steps if s.kind == ComponentKind.FEED]
        self.factor_steps = [s for s in steps if s.kind == ComponentKind.FACTOR]
        signal_steps = [s for s in steps if s.kind == ComponentKind.ENGINE and issubclass(s.entry.cls, IntradaySignal)]
        if not self.feed_steps:
            raise SessionError(f"{pipeline.path}: phases.intraday has no feed step (e.g. `plugin: replay`)")
        if not signal_steps:
            raise SessionError(f"{pipeline.path}: phases.intraday needs an intraday-signal engine step "
                               "(a subclass of jgod_core.IntradaySignal)")
        self.feeds = [(s.name, s.build()) for s in self.feed_steps]
        self.signal: IntradaySignal = signal_steps[0].build()
        self.factors = []
        for s in self.factor_steps:
            factor = s.build()
            if not self.signal.accepts(factor):
                raise SessionError(f"{s.slot}: {s.entry.name!r} is not an intraday factor that "
                                   f"{signal_steps[0].entry.name!r} can feed")
            self.factors.append((s.name, s.weight if s.weight is not None else 1.0, factor))
        self.metrics = metrics or RealtimeMetrics()
        self.broker = pipeline.broker.build() if pipeline.broker is not None else None
        if self.broker is None:
            raise SessionError(f"{pipeline.path}: execution.broker is required (e.g. `plugin: paper`)")
        self.rules = [s.build() for s in pipeline.risk_rules]

    # -- assembly -------------------------------------------------------------------------------

    def _risk_engine(self, clock):
        from jgod_core.execution.orders import TradingState
        from jgod_core.risk.engine import MemoryStateStore, RiskEngine

        on_loss = TradingState(self.pipeline.config.risk.on_daily_loss_limit.upper())
        hook = self.pipeline.kernel.hook.jgod_pretrade_check
        return RiskEngine(self.rules, MemoryStateStore(), pretrade_hook=hook, on_daily_loss_limit=on_loss,
                          model_version=f"{self.pipeline.config.name}@{self.pipeline.sha256[:12]}", clock=clock)

    # -- replay ---------------------------------------------------------------------------------

    def replay(self, date: dt.date) -> ReplayResult:
        batches, feed_symbols = [], []
        for _, feed in self.feeds:
            batch, symbols = feed.events(date)
            batches.append(batch)
            feed_symbols.append(symbols)
        decider = _Decider(self, date, feed_symbols)
        for batch, offset in zip(batches, decider.offsets):
            batch.symbol += offset
        merged = EventBatch.concat(batches).sorted_by_exchange_time()
        merged, dropped = _drop_bad_sequences(merged, decider.symbols)
        decision_ns = self.signal.decision_seconds() * 1_000_000_000
        slot = -(-merged.exchange_ns // decision_ns) * decision_ns  # ceil to the decision grid
        bounds = np.flatnonzero(np.diff(slot)) + 1
        starts = np.concatenate([[0], bounds]) if len(slot) else np.array([], dtype=int)
        ends = np.concatenate([bounds, [len(slot)]]) if len(slot) else np.array([], dtype=int)
        for start, end in zip(starts, ends):
            decider.decide(merged.take(slice(start, end)), int(slot[start]))
        return decider.finish(dropped)

    def run_live(self, date: dt.date, end_ns: int, stop: threading.Event | None = None,
                 clock: LoopClock | None = None) -> ReplayResult:
        """The live loop until ``end_ns`` (epoch) or ``stop``; on the wall clock unless ``clock`` is given."""
        from jgod_core.realtime.live import LiveLoop

        if clock is not None:
            return clock.loop.run_until_complete(LiveLoop(self, date, end_ns, clock, stop).run())

        async def main() -> ReplayResult:
            return await LiveLoop(self, date, end_ns, LoopClock.wall(asyncio.get_running_loop()), stop).run()

        return asyncio.run(main())

    # -- pieces ---------------------------------------------------------------------------------

    def _pending(self) -> dict[str, int]:
        """Signed quantity of orders still working at the broker (they count toward the position)."""
        pending: dict[str, int] = {}
        working = getattr(self.broker, "working", None)
        for w in (working.values() if isinstance(working, dict) else ()):
            if w.status.is_working:
                pending[w.order.symbol] = pending.get(w.order.symbol, 0) + w.order.side.sign * w.remaining
        return pending

    def _observe(self, health: HealthMonitor, chunk: EventBatch, symbols, sources) -> None:
        last_index = {}
        for i, s in enumerate(chunk.symbol.tolist()):
            last_index[s] = i
            self.metrics.events.labels(sources[s], KIND_NAMES[int(chunk.kind[i])]).inc()
        for s, i in last_index.items():
            health.on_event(sources[s], symbols[s], int(chunk.exchange_ns[i]), int(chunk.receive_ns[i]))

    def _context(self, t, positions, symbols, prices, pnl_index, pnl_values, multipliers=None,
                 health: HealthMonitor | None = None, *, zone: str):
        """The risk context of one decision; the health monitor's block list and each symbol's latest
        event time (venue wall clock, like ``t``) go in for the ``stale_data`` rule."""
        from jgod_core.risk.engine import RiskContext

        last_data = {}
        if health is not None:
            stamps = pd.to_datetime(pd.Series(health.last_event_ns, dtype="int64"), utc=True)
            last_data = {s: ts.tz_convert(zone).tz_localize(None).to_pydatetime() for s, ts in stamps.items()}
        return RiskContext(now=t, positions=dict(positions),
                           mark_prices={s: float(prices[symbols.index(s)]) for s in symbols},
                           return_stream=pd.Series(pnl_values, index=pd.DatetimeIndex(pnl_index)),
                           multipliers={s: m for s, m in (multipliers or {}).items() if m != 1},
                           blocked=dict(health.blocked) if health is not None else {}, last_data=last_data)

    def _order_row(self, date, n, t, sym, target, current, score, last_price, reference) -> dict:
        delta = target - current
        side = "buy" if delta > 0 else "sell"
        limit = self.signal.limit_price(last_price, delta > 0)
        return {"client_order_id": f"{self.pipeline.config.name}-{date:%Y%m%d}-{n + 1:05d}",
                "decision_time": t.isoformat(), "symbol": sym, "side": side, "quantity": abs(delta),
                "limit_price": f"{limit:.2f}", "reference_price": f"{reference if reference else last_price:.2f}",
                "score": f"{score:.6f}", "target": target, "position_before": current, "approved_quantity": 0,
                "outcome": "", "reason": ""}

    def _make_order(self, row: dict):
        from jgod_core.execution.orders import Order, Side

        return Order(row["client_order_id"], row["symbol"], Side(row["side"]), int(row["quantity"]),
                     Decimal(row["limit_price"]), Decimal(row["reference_price"]),
                     created_at=dt.datetime.fromisoformat(row["decision_time"]),
                     model_version=f"{self.pipeline.config.name}@{self.pipeline.sha256[:12]}",
                     reason=f"intraday score {row['score']}",
                     asset=venue_for(self.pipeline).instrument(row["symbol"]).asset_class)

    def _match_prints(self, chunk: EventBatch, t_ns: int, symbols, tradable, positions, fills, t) -> None:
        """Hand the chunk's bars and trades of each tradable symbol to a broker that fills against
        recorded prints (the paper broker's futures mode), then move its clock to ``t_ns`` so orders
        submitted at this decision fill only on later prints."""
        match = getattr(self.broker, "match_prints", None)
        if match is not None:
            for sym in sorted(tradable):
                mask = (chunk.symbol == symbols.index(sym)) & np.isin(chunk.kind, (BAR, TRADE))
                if not mask.any():
                    continue
                bar = chunk.kind[mask] == BAR
                price = chunk.price[mask]
                self._record_fills(match(sym, chunk.exchange_ns[mask], np.where(bar, chunk.open[mask], price),
                                         np.where(bar, chunk.high[mask], price), np.where(bar, chunk.low[mask], price),
                                         chunk.size[mask], "recorded_bars" if bar.all() else "recorded_ticks"),
                                   positions, fills, t)
        if hasattr(self.broker, "clock_ns"):
            self.broker.clock_ns = t_ns

    def _submit(self, risk, context, row, positions, fills, t) -> None:
        from jgod_core.execution.orders import ChildOrder

        order = self._make_order(row)
        decision = risk.check(order, context)
        if decision.denied:
            row.update(outcome="denied", reason=decision.reason)
            self.metrics.orders.labels("denied").inc()
            return
        approved = decision.approved.order
        child = ChildOrder(**{f: getattr(approved, f) for f in approved.__dataclass_fields__},
                           parent_id=approved.client_order_id, slice_index=0)
        child = dataclasses.replace(child, client_order_id=f"{approved.client_order_id}-0")
        child_decision = risk.check_child(decision.approved, child, context)
        if child_decision.denied:
            row.update(outcome="denied", reason=child_decision.reason)
            self.metrics.orders.labels("denied").inc()
            return
        row.update(approved_quantity=child_decision.approved.order.quantity, outcome="approved",
                   reason="; ".join(v.reason for v in decision.verdicts if v.reason and v.reason != "ok"))
        self.metrics.orders.labels("approved").inc()
        self._record_fills(self.broker.submit(child_decision.approved), positions, fills, t)

    def _record_fills(self, result, positions, fills, t) -> None:
        from jgod_core.execution.orders import Fill

        items = result if isinstance(result, (list, tuple)) else [result]
        for f in items:
            if isinstance(f, Fill):
                positions[f.symbol] = positions.get(f.symbol, 0) + f.side.sign * f.quantity
                fills.append({"client_order_id": f.client_order_id, "symbol": f.symbol, "side": f.side.value,
                              "quantity": f.quantity, "price": str(f.price), "multiplier": f.multiplier,
                              "notional": str(f.notional), "commission": f.commission, "tax": f.tax,
                              "basis": f.basis, "fill_time": f.ts.isoformat() if f.ts else "",
                              "decision_time": t.isoformat()})

    def _breaker(self, risk, context, t, positions, symbols, prices, references, orders, fills) -> None:
        """Between updates: :meth:`RiskEngine.monitor` asks the circuit breaker (and any rule with
        ``evaluate``); a trip halts the gate, cancels every working order at the broker and flattens
        when the pipeline says so (the flatten fills are booked like any other)."""
        from jgod_core.execution.orders import Order, Side

        def flatten_order(symbol: str, position: int) -> Order:
            px = float(prices[symbols.index(symbol)])
            return Order(f"{self.pipeline.config.name}-flatten-{len(orders) + 1:05d}", symbol,
                         Side.SELL if position > 0 else Side.BUY, abs(position), Decimal(f"{px:.2f}"),
                         Decimal(f"{references.get(symbol, px):.2f}"), created_at=t, reason="flatten on halt",
                         asset=venue_for(self.pipeline).instrument(symbol).asset_class)

        verdict = risk.monitor(context, [self.broker], flatten=self.pipeline.config.risk.flatten_on_halt,
                               flatten_order=flatten_order,
                               on_results=lambda results: self._record_fills(results, positions, fills, t))
        if verdict is not None:
            log.warning("circuit breaker: %s", verdict.reason)
            self.metrics.set_trading_state("HALTED")


class _Decider:
    """The decisions of one session, shared by the replay and the live loop.

    ``decide(chunk, t_ns)`` applies the events stamped in (previous decision, ``t_ns``] and takes
    the decision of grid time ``t_ns``: processor → health → factors → signal → breaker → risk
    gate → broker. It reads nothing stamped after ``t_ns``.
    """

    def __init__(self, session: IntradaySession, date: dt.date, feed_symbols: list[list[str]]) -> None:
        self.session = session
        self.date = date
        self.symbols: list[str] = []
        self.sources: list[str] = []
        self.offsets: list[int] = []
        self.tradable: set[str] = set()
        roles: dict[str, str] = {}
        self.references: dict[str, float] = {}
        for (feed_name, feed), symbols in zip(session.feeds, feed_symbols):
            self.offsets.append(len(self.symbols))
            for sym in symbols:
                if sym in self.symbols:
                    raise SessionError(f"symbol {sym!r} is provided by two feeds")
                self.symbols.append(sym)
                self.sources.append(feed_name)
                if feed.params.tradable:
                    self.tradable.add(sym)
                if feed.params.role != "none":
                    roles[feed.params.role] = sym
                ref = feed.reference_price(date) if hasattr(feed, "reference_price") else None
                if ref is not None:
                    self.references[sym] = ref
        self.index = {s: i for i, s in enumerate(self.symbols)}
        venue = venue_for(session.pipeline)
        self.multipliers = {s: venue.instrument(s).multiplier for s in self.symbols}
        self.processor = session.signal.make_processor(list(self.symbols), dict(roles),
                                                       [factor for _, _, factor in session.factors])
        self.health = HealthMonitor(on_latency=session.metrics.observe_latency)
        for (feed_name, feed), symbols in zip(session.feeds, feed_symbols):
            self.health.add_source(feed_name, list(symbols), feed.params.stale_after_seconds)
        self.now = dt.datetime(1970, 1, 1)
        self.risk = session._risk_engine(lambda: self.now)
        self.positions: dict[str, int] = {}
        self.cash = 0.0  # NT$: fill cash flows (contract value and costs), so equity = cash + Σ q·mult·mark
        self.equity = 0.0
        self._fills_booked = 0
        self.pnl_index: list[dt.datetime] = []
        self.pnl_values: list[float] = []
        self.orders: list[dict] = []
        self.fills: list[dict] = []
        self.cutoff = session.signal.no_new_orders_after()
        self.opens = dt.time.fromisoformat(session.pipeline.config.phases.intraday.schedule)
        self.decisions = 0
        self.events = 0
        self._alerts_counted = 0

    def decide(self, chunk: EventBatch, t_ns: int, clock_ns: Callable[[], int] | None = None) -> None:
        """Apply ``chunk`` and decide at grid time ``t_ns``; ``clock_ns`` gives the decision time
        for the latency (default: the last event's receive time + the processing time)."""
        s, symbols, health, processor = self.session, self.symbols, self.health, self.processor
        tic = time.perf_counter_ns()
        processor.process(chunk)
        zone = venue_for(s.pipeline).timezone  # the venue's wall clock: what the rules and journal read
        s._match_prints(chunk, t_ns, symbols, self.tradable, self.positions, self.fills,
                        pd.Timestamp(t_ns, tz="UTC").tz_convert(zone).tz_localize(None).to_pydatetime())
        s._observe(health, chunk, symbols, self.sources)
        last = len(chunk) - 1
        decided = clock_ns() if clock_ns is not None else \
            int(chunk.receive_ns[last]) + time.perf_counter_ns() - tic
        health.on_decision(self.sources[chunk.symbol[last]], int(chunk.exchange_ns[last]), decided)
        self.decisions += 1
        self.events += len(chunk)
        t = pd.Timestamp(t_ns, tz="UTC").tz_convert(zone).tz_localize(None).to_pydatetime()
        self.now = t
        prices = processor.last_price()
        idx = self.index
        pnl = self._mark_to_market(prices)
        self.pnl_index.append(t)
        self.pnl_values.append(pnl)
        view = processor.view(t_ns)
        score = np.zeros(len(symbols))
        for _, weight, factor in s.factors:
            score += weight * factor.compute(view).score[:, 0]
        context = s._context(t, self.positions, symbols, prices, self.pnl_index, self.pnl_values, self.multipliers,
                             health, zone=zone)
        s._breaker(self.risk, context, t, self.positions, symbols, prices, self.references, self.orders, self.fills)
        if t.time() < self.opens:  # warm-up: feeds and state run from the job's start, orders from `schedule`
            s.metrics.set_trading_state(self.risk.state.value)
            self._count_alerts()
            return
        pending = s._pending()
        for sym in sorted(self.tradable):
            i = idx[sym]
            current = self.positions.get(sym, 0) + pending.get(sym, 0)
            target = s.signal.target(float(score[i]), current)
            if t.time() >= self.cutoff and abs(target) > abs(current):
                target = current
            if target == current:
                continue
            ok, why = health.can_trade(sym, t_ns)
            row = s._order_row(self.date, len(self.orders), t, sym, target, current, float(score[i]),
                               float(prices[i]), self.references.get(sym))
            if not ok:
                row.update(outcome="blocked", reason=why)
                self.orders.append(row)
                s.metrics.orders.labels("blocked").inc()
                continue
            s._submit(self.risk, context, row, self.positions, self.fills, t)
            self.orders.append(row)
        s.metrics.set_trading_state(self.risk.state.value)
        self._count_alerts()

    def _mark_to_market(self, prices) -> float:
        """P&L since the last update, NT$, net of fees and taxes: the change of cash + Σ q·mult·mark."""
        for row in self.fills[self._fills_booked:]:
            sign = 1 if row["side"] == "buy" else -1
            self.cash += -sign * float(row["notional"]) - row["commission"] - row["tax"]
        self._fills_booked = len(self.fills)
        equity = self.cash + sum(q * self.multipliers[sym] * float(prices[self.index[sym]])
                                 for sym, q in self.positions.items() if q)
        pnl, self.equity = equity - self.equity, equity
        return float(pnl)

    def check_health(self, t_ns: int) -> None:
        """A decision time without events: no decision, but stale symbols are noticed (and alerted)."""
        for sym in sorted(self.tradable):
            self.health.can_trade(sym, t_ns)
        self._count_alerts()

    def _count_alerts(self) -> None:
        for a in self.health.alerts[self._alerts_counted:]:
            self.session.metrics.alerts.labels(a.kind).inc()
        self._alerts_counted = len(self.health.alerts)

    def finish(self, dropped: dict[str, int]) -> ReplayResult:
        """End of session: expire working orders; the result with its order-list hash."""
        s = self.session
        if hasattr(s.broker, "expire_day"):
            s.broker.expire_day()
        orders_df = pd.DataFrame(self.orders, columns=list(ORDER_COLUMNS))
        fills_df = pd.DataFrame(self.fills)
        sha = hashlib.sha256(orders_csv_bytes(orders_df)).hexdigest()
        missing: dict[str, str] = {}
        view = self.processor.view(0)
        for _, _, factor in s.factors:
            missing.update(factor.compute(view).missing)
        return ReplayResult(orders_df, fills_df, self.decisions, self.events, dropped, self.health.alerts, sha,
                            missing)


def _drop_bad_sequences(batch: EventBatch, symbols: list[str]) -> tuple[EventBatch, dict[str, int]]:
    """Drop duplicate and out-of-order events per (symbol, kind) of a recording."""
    guards: dict[int, SequenceGuard] = {}
    keep = np.ones(len(batch), dtype=bool)
    from jgod_core.data.events import MarketEvent

    for i in range(len(batch)):
        seq = int(batch.seq[i])
        if seq < 0:
            continue
        kind = int(batch.kind[i])
        guard = guards.setdefault(kind, SequenceGuard(contiguous=False))
        ev = MarketEvent("replay", symbols[int(batch.symbol[i])], kind, int(batch.exchange_ns[i]), 0, seq)
        if guard.check(ev).value != "accept":
            keep[i] = False
    counts: dict[str, int] = {}
    for g in guards.values():
        for k, v in g.counts.items():
            if k != "accept":
                counts[k] = counts.get(k, 0) + v
    return batch.take(keep), counts


def write_outputs(result: ReplayResult, out: Path, date: dt.date, pipeline: Any) -> dict[str, Path]:
    """Write orders.csv (the hashed order list), fills.csv, alerts.jsonl and summary.json."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"orders": out / "orders.csv", "fills": out / "fills.csv", "alerts": out / "alerts.jsonl",
             "summary": out / "summary.json"}
    tmp = {k: p.with_suffix(p.suffix + ".tmp") for k, p in paths.items()}
    tmp["orders"].write_bytes(orders_csv_bytes(result.orders))
    result.fills.to_csv(tmp["fills"], index=False, lineterminator="\n")
    tmp["alerts"].write_text("".join(json.dumps({"exchange_ns": a.exchange_ns, "source": a.source, "kind": a.kind,
                                                 "message": a.message}) + "\n" for a in result.alerts),
                             encoding="utf-8")
    tmp["summary"].write_text(json.dumps({
        "pipeline": pipeline.config.name, "pipeline_sha256": pipeline.sha256, "date": date.isoformat(),
        "events": result.events, "decisions": result.decisions, "dropped": result.dropped,
        "orders": len(result.orders), "fills": len(result.fills), "orders_sha256": result.orders_sha256,
        "missing": result.missing}, indent=1, sort_keys=True), encoding="utf-8")
    for k in paths:
        tmp[k].replace(paths[k])
    return paths
