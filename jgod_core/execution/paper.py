"""Paper trading: the pipeline's daily target weights through the risk gate and the execution layer.

Day by day over ``[start, end]`` (trading days of the panel); every market fact — session hours,
ticks, price band, lots, fees, tax, settlement days, the cost model — is the venue's answer
(:mod:`jgod_core.venue`; the pipeline's venue, else the installed one):

1. the decision uses data up to the previous close only (target weights dated the previous
   trading day, prices, volumes and market series cut there — no look-ahead);
2. the daily loss the risk rules see is the last session's (close to close), since a daily run decides
   before the open; REDUCING set by the daily-loss rule lifts at the next session;
3. the trading state is re-read from the store (a ``jgod halt`` in another terminal takes effect
   at the next decision; HALTED cancels working orders and flattens when the pipeline says so);
4. target shares = weight × equity / previous close, in whole lots; the difference to the
   current position becomes one parent order per symbol (sells first, buys within the cash),
   with a marketable limit ``limit_offset`` away from the previous close, inside the price band;
5. the risk engine judges the parent, the router slices it, the engine judges each slice, and
   only then does the broker (paper) receive it; every status change is journaled first;
6. fills update positions at once and cash through the T+n ledger of
   :mod:`jgod_core.execution.settlement` (the backtester's rule): a fill's cash flow (commission and
   tax in whole NT$) settles the venue's settlement days later (TWSE: T+2; futures the same day);
   buying power = settled cash + the net of the unsettled amounts (same-day and earlier sale
   proceeds count, unpaid buys are deducted), so no settlement day is overdrawn; ``equity.csv``
   shows settled ``cash`` and ``unsettled``;
7. per parent order, the execution residual = actual cost − predicted cost (fractions of the
   arrival price = the day's open), predicted from the decision-time daily-bar model.

Outputs in ``out``: ``orders.csv``, ``fills.csv``, ``risk_verdicts.csv``, ``trading_state.csv``,
``execution_residual.csv``, ``equity.csv``, ``paper_summary.json``, ``risk_report.html``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from jgod_core.data.panel import Panel
from jgod_core.errors import JGodError
from jgod_core.execution.audit import AuditLog
from jgod_core.execution.journal import OrderJournal
from jgod_core.execution.orders import ChildOrder, Order, OrderStatus, Side, TradingState, whole_lots
from jgod_core.execution.settlement import SettlementLedger
from jgod_core.risk.engine import RiskContext, RiskEngine, TradingStateStore
from jgod_core.risk.market_view import PanelMarketView
from jgod_core.venue import AssetClass, Instrument, Venue, default_venue, use_venue

PAPER_MODEL_VERSION = "paper"


def mean_bps(costs: pd.Series | None) -> float | None:
    """Mean of the finite cost fractions, in basis points; None when there is none (JSON-safe)."""
    if costs is None:
        return None
    finite = costs[np.isfinite(costs.to_numpy(dtype=float))]
    return float(finite.mean() * 1e4) if len(finite) else None


class PaperError(JGodError):
    """A paper run cannot start (no targets, no prices, bad period)."""


@dataclass
class PaperSettings:
    """Knobs of a paper run that are not pipeline components."""

    initial_cash: float = 10_000_000.0
    limit_offset: float = 0.02  # marketable limit: ±2 % from the previous close, inside the band
    impact_coef: float = 0.5  # daily-bar cost model used for the TCA prediction
    cost_window_days: int = 20
    model_version: str = PAPER_MODEL_VERSION
    settlement_days: int | None = None  # securities' cash settlement, trading days (None: the venue's, TWSE T+2)


@dataclass
class PaperResult:
    orders: pd.DataFrame
    fills: pd.DataFrame
    verdicts: pd.DataFrame
    states: pd.DataFrame
    residuals: pd.DataFrame
    equity: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def _is_etf(panel: Panel) -> np.ndarray:
    kinds = panel.attributes.get("security_type")
    if kinds is None:
        return np.zeros(len(panel.symbols), dtype=bool)
    return np.array([str(k).upper() == "ETF" for k in kinds])


def _weights_on(targets: pd.DataFrame, day: np.datetime64) -> pd.Series | None:
    ts = pd.Timestamp(day)
    if ts not in targets.index:
        return None
    row = targets.loc[ts]
    return None if row.isna().all() else row.fillna(0.0)


def _limit_price(venue: Venue, instrument: Instrument, side: Side, reference: float, offset: float,
                 as_of: dt.date | None = None) -> Decimal:
    """The marketable limit ``offset`` away from ``reference``, on the ladder and inside the band."""
    down, up = venue.price_band(instrument, reference, as_of)
    if side is Side.BUY:
        price = min(venue.round_price(instrument, reference * (1 + offset), "down", as_of), up)
    else:
        price = max(venue.round_price(instrument, reference * (1 - offset), "up", as_of), down)
    return Decimal(f"{price:.2f}")


def _affordable(venue: Venue, instrument: Instrument, buying_power: float, limit: float) -> int:
    """Whole lots a buy at ``limit`` can pay for, commission included."""
    return whole_lots(max(0.0, buying_power) / (limit * (1 + venue.commission_rate)), instrument.lot_size)


def _throttle_pace(rules) -> tuple[int, float] | None:
    """(max submits, window seconds) of the first rule that declares a submit pace
    (:meth:`jgod_core.RiskRule.pacing`), or None when no rule paces submissions."""
    for rule in rules:
        pace = rule.pacing() if callable(getattr(rule, "pacing", None)) else None
        if pace is not None:
            return int(pace[0]), float(pace[1])
    return None


def _paced(release: dt.datetime, sent_at: list[dt.datetime], max_submits: int, window_seconds: float) -> dt.datetime:
    """The earliest time ≥ ``release`` at which the sliding window holds fewer than ``max_submits`` sends
    (``sent_at`` in time order). A window is (t − window, t], as the throttle rule counts it."""
    window = dt.timedelta(seconds=window_seconds)
    if sent_at and release < sent_at[-1]:
        release = sent_at[-1]  # a delayed release delays the ones queued behind it (first in, first out)
    while True:
        recent = [t for t in sent_at[-max_submits:] if t > release - window]
        if len(recent) < max_submits:
            return release
        release = recent[0] + window + dt.timedelta(microseconds=1)


class PaperSession:
    """One paper run: risk engine, router, broker, journal and books, advanced a day at a time.

    ``venue`` answers every market question (None: :func:`jgod_core.venue.default_venue`)."""

    def __init__(self, panel: Panel, targets: pd.DataFrame, engine: RiskEngine, router: Any, broker: Any,
                 journal: OrderJournal | None, settings: PaperSettings, run_id: str,
                 flatten_on_halt: bool = True, venue: Venue | None = None) -> None:
        self.panel = panel
        self.targets = targets
        self.engine = engine
        self.router = router
        self.broker = broker
        self.journal = journal
        self.settings = settings
        self.run_id = run_id
        self.flatten_on_halt = flatten_on_halt
        self.venue = venue = venue if venue is not None else default_venue()
        self.is_etf = {s: bool(e) for s, e in zip(panel.symbols, _is_etf(panel))}
        self.instruments = {s: venue.instrument(s, AssetClass.ETF if etf else AssetClass.STOCK)
                            for s, etf in self.is_etf.items()}
        ledger_days = (settings.settlement_days if settings.settlement_days is not None else
                       max((venue.settlement_days(i) for i in self.instruments.values()), default=0))
        self.ledger = SettlementLedger(settings.initial_cash, len(panel.dates), ledger_days)
        self.j = 0  # the trading day being traded (index into panel.dates)
        self.positions: dict[str, int] = {}
        self.row = {s: i for i, s in enumerate(panel.symbols)}
        self.ctx = RiskContext(now=dt.datetime(1970, 1, 1))
        self.order_rows: list[dict] = []
        self.fill_rows: list[dict] = []
        self.residual_rows: list[dict] = []
        self.equity_rows: list[dict] = []
        self.previous_equity: float | None = None

    # -- helpers ---------------------------------------------------------------------------------

    def _close(self, symbol: str, j: int) -> float:
        return float(self.panel.fields["close"][self.row[symbol], j])

    def _mark(self, j: int) -> dict[str, float]:
        marks = {}
        for symbol in self.positions:
            k = j
            while k >= 0 and np.isnan(self.panel.fields["close"][self.row[symbol], k]):
                k -= 1  # a halted name is marked at its last price
            marks[symbol] = self._close(symbol, k) if k >= 0 else 0.0
        return marks

    def equity(self, j: int) -> float:
        marks = self._mark(j)
        return self.cash + self.unsettled + sum(q * marks[s] for s, q in self.positions.items())

    @property
    def cash(self) -> float:
        """Settled cash, NT$."""
        return self.ledger.cash

    @property
    def unsettled(self) -> float:
        """Net amount of the trades not yet settled, NT$ (> 0: the account will receive it)."""
        return self.ledger.unsettled(self.j)

    def _journal(self, order: Order, status: OrderStatus, ts: dt.datetime, note: str = "") -> None:
        if self.journal is not None:
            self.journal.record(order, status, ts, note)
        self.order_rows.append({"ts": ts, "client_order_id": order.client_order_id,
                                "parent_id": getattr(order, "parent_id", "") or "", "symbol": order.symbol,
                                "side": order.side.value, "quantity": order.quantity,
                                "limit_price": float(order.limit_price), "status": status.value, "note": note})

    # -- one day ---------------------------------------------------------------------------------

    def run_day(self, j: int) -> None:
        panel = self.panel
        self.j = j
        self.ledger.start_day(j)  # what trades of j − 2 owe or bring settles before the open
        day = pd.Timestamp(panel.dates[j]).date()
        session_open, session_close = self.venue.session_hours(day)
        open_ts = dt.datetime.combine(day, session_open)
        decision_view = PanelMarketView(panel, j - 1)
        bars = {}
        for symbol, i in self.row.items():
            ref = float(panel.fields["close"][i, j - 1])
            bars[symbol] = {"open": float(panel.fields["open"][i, j]), "high": float(panel.fields["high"][i, j]),
                            "low": float(panel.fields["low"][i, j]), "close": float(panel.fields["close"][i, j]),
                            "volume": float(np.nan_to_num(panel.fields["volume"][i, j])), "reference": ref,
                            "is_etf": self.is_etf[symbol], "ts": open_ts}
        self.broker.set_day(bars)
        equity_prev = self.equity(j - 1)
        ctx = self.ctx
        ctx.now = open_ts
        ctx.market = decision_view
        ctx.positions = self.positions
        ctx.mark_prices = self._mark(j - 1)
        ctx.equity = equity_prev
        ctx.day_start_equity = self.previous_equity if self.previous_equity is not None else equity_prev
        self.engine.start_session(open_ts)
        state = self.engine.state
        if state is TradingState.HALTED:
            self._on_halted(j, open_ts)
        weights = _weights_on(self.targets, panel.dates[j - 1])
        if weights is not None and state is not TradingState.HALTED:
            self._rebalance(j, weights, equity_prev, open_ts)
        for cid in self.broker.expire_day():
            order = self.broker.working[cid].order
            self._journal(order, OrderStatus.EXPIRED, dt.datetime.combine(day, session_close), "end of session")
        self.previous_equity = equity_prev
        self.equity_rows.append({"date": day, "cash": self.cash, "unsettled": self.unsettled, "equity": self.equity(j),
                                 "gross_exposure": sum(abs(q) * m for q, m in
                                                       zip(self.positions.values(), self._mark(j).values())),
                                 "state": self.engine.state.value})

    def _on_halted(self, j: int, ts: dt.datetime) -> None:
        """HALTED: cancel every working order; flatten (orders minted by the engine) when configured."""
        change = self.engine.state_store.current()
        working = [w.order for w in self.broker.working.values() if w.status.is_working]

        def flatten_order(symbol: str, position: int) -> Order:
            ref = self._close(symbol, j - 1)
            side = Side.SELL if position > 0 else Side.BUY
            order = Order(f"{self.run_id}-{ts:%Y%m%d}-{symbol}-FLAT", symbol, side, abs(position),
                          _limit_price(self.venue, self.instruments[symbol], side, ref, self.settings.limit_offset,
                                       ts.date()),
                          Decimal(f"{ref:.2f}"), is_etf=self.is_etf[symbol], created_at=ts, reason="flatten_on_halt")
            self._journal(order, OrderStatus.NEW, ts, "flatten_on_halt")
            self._journal(order, OrderStatus.SUBMITTED, ts, "flatten_on_halt")  # journaled before the send
            return order

        flatten = self.flatten_on_halt and any(self.positions.values())
        results = self.engine.halt(change.reason, change.actor or "engine", [self.broker], flatten=flatten,
                                   context=self.ctx, flatten_order=flatten_order)
        for order in working:
            self._journal(order, OrderStatus.CANCELLED, ts, f"halt: {change.reason}")
        fills = [f for r in results if isinstance(r, list) for f in r]
        for fill in fills:
            self._journal(self.broker.working[fill.client_order_id].order,
                          self.broker.working[fill.client_order_id].status, ts, f"fill {fill.quantity}@{fill.price}")
        self._apply_fills(fills, ts)

    def _rebalance(self, j: int, weights: pd.Series, equity: float, ts: dt.datetime) -> None:
        """Parent orders at the open (sells first), judged and scheduled; then their slices are released."""
        wanted: list[tuple[str, int, float]] = []
        for symbol in sorted(set(weights.index[weights != 0]) | {s for s, q in self.positions.items() if q}):
            if symbol not in self.row:
                continue
            ref = self._close(symbol, j - 1)
            if not np.isfinite(ref) or ref <= 0:
                continue
            target = whole_lots(float(weights.get(symbol, 0.0)) * equity / ref, self.instruments[symbol].lot_size)
            delta = target - self.positions.get(symbol, 0)
            if delta:
                wanted.append((symbol, delta, ref))
        wanted.sort(key=lambda x: x[1])  # sells (negative) first
        # buys are sized on the buying power the day's sells will add (at their limits, net of costs);
        # each buy slice is cut again to the buying power at its release
        projected = self.ledger.buying_power(self.j)
        parents: list[tuple[Any, list[ChildOrder]]] = []
        for symbol, delta, ref in wanted:
            side = Side.BUY if delta > 0 else Side.SELL
            quantity = abs(delta)
            instrument = self.instruments[symbol]
            limit = _limit_price(self.venue, instrument, side, ref, self.settings.limit_offset, ts.date())
            if side is Side.BUY:
                quantity = min(quantity, _affordable(self.venue, instrument, projected, float(limit)))
                if quantity <= 0:
                    continue
            parent = Order(f"{self.run_id}-{ts:%Y%m%d}-{symbol}-{side.value[0].upper()}", symbol, side, quantity,
                           limit, Decimal(f"{ref:.2f}"), is_etf=self.is_etf[symbol], created_at=ts,
                           model_version=self.settings.model_version, reason="target weight")
            scheduled = self._approve_and_schedule(parent, ts)
            if scheduled is None:
                continue
            approved = scheduled[0].order
            notional = float(approved.limit_price) * approved.quantity
            projected += (notional - self.venue.commission(notional)
                          - self.venue.tax(approved.instrument, Side.SELL, notional)
                          if side is Side.SELL else -notional * (1 + self.venue.commission_rate))
            parents.append(scheduled)
        self._release(j, parents, ts)

    def _approve_and_schedule(self, parent: Order, ts: dt.datetime):
        """The risk engine judges the parent; the router slices the approval. None when denied."""
        ctx = self.ctx
        ctx.now = ts
        self._journal(parent, OrderStatus.NEW, ts, "target weight")
        decision = self.engine.check(parent, ctx)
        if decision.approved is None:
            self._journal(parent, OrderStatus.REJECTED, ts, decision.reason)
            return None
        approved = decision.approved
        self._journal(approved.order, OrderStatus.SUBMITTED, ts, "approved by risk engine")
        return approved, self.router.schedule(approved, ctx.market)

    def _release(self, j: int, parents, open_ts: dt.datetime) -> None:
        """Release every slice at its scheduled time (open + ``start_minute``), in time order across
        parents (ties: the parents' order, sells first, then slice order). Where the pipeline has a
        rule declaring a submit pace (the built-in ``submit_throttle``), releases are paced to its rate: a slice that would exceed it waits
        for the window to clear instead of being sent into a denial."""
        queue = sorted(((child.start_minute, k, child.slice_index), k, child)
                       for k, (_, children) in enumerate(parents) for child in children)
        pace = _throttle_pace(self.engine.rules)
        sent_at: list[dt.datetime] = []
        fills_of: dict[int, list] = {k: [] for k in range(len(parents))}
        for _, k, child in queue:
            approved_parent = parents[k][0]
            release = open_ts + dt.timedelta(minutes=child.start_minute)
            if pace is not None:
                release = _paced(release, sent_at, *pace)
            self._wait_until(release)
            fills_of[k].extend(self._send_child(approved_parent, child, release))
            sent_at.append(release)
        for k, (approved_parent, _) in enumerate(parents):
            self._tca(j, approved_parent.order, fills_of[k])

    def _wait_until(self, ts: dt.datetime) -> None:
        """The paper loop runs on a virtual clock: nothing to wait for (the live session waits)."""

    def _send_child(self, approved, child: ChildOrder, now: dt.datetime) -> list:
        ctx = self.ctx
        ctx.now = now
        self._journal(child, OrderStatus.NEW, now)
        if child.side is Side.BUY and not child.is_future:
            affordable = _affordable(self.venue, child.instrument, self.ledger.buying_power(self.j),
                                     float(child.limit_price))
            if affordable <= 0:
                self._journal(child, OrderStatus.REJECTED, now, "no buying power left at release")
                return []
            if affordable < child.quantity:
                child = child.with_quantity(affordable)
        child_decision = self.engine.check_child(approved, child, ctx)
        if child_decision.approved is None:
            self._journal(child, OrderStatus.REJECTED, now, child_decision.reason)
            return []
        self._journal(child, OrderStatus.SUBMITTED, now)  # journaled before the send
        child_fills = self.engine.send(child_decision.approved, self.broker)
        if child_fills is None:  # halted between the decision and the send
            self._journal(child, OrderStatus.CANCELLED, now, "halted before send")
            return []
        self._journal(child, OrderStatus.ACCEPTED, now)
        filled = 0
        for fill in child_fills:
            filled += fill.quantity
            self._journal(child, OrderStatus.FILLED if filled == child.quantity else
                          OrderStatus.PARTIALLY_FILLED, now, f"fill {fill.quantity}@{fill.price}")
        self._apply_fills(child_fills, now)
        return list(child_fills)

    def _apply_fills(self, fills, ts: dt.datetime) -> None:
        for fill in fills:
            self.positions[fill.symbol] = self.positions.get(fill.symbol, 0) + fill.side.sign * fill.quantity
            self.ledger.book(self.j, float(fill.cash_flow), self._settlement_days(fill.symbol))
            if self.journal is not None:
                self.journal.record_fill(fill, ts)
            self.fill_rows.append({"ts": fill.ts or ts, "fill_id": fill.fill_id, "client_order_id": fill.client_order_id,
                                   "symbol": fill.symbol, "side": fill.side.value, "quantity": fill.quantity,
                                   "price": float(fill.price), "commission": fill.commission, "tax": fill.tax,
                                   "basis": fill.basis})

    def _settlement_days(self, symbol: str) -> int:
        """Trading days until a fill of ``symbol`` settles: the venue's for the instrument the symbol
        trades as; securities take the settings' ``settlement_days`` when one is given."""
        instrument = self.venue.instrument(symbol)
        if instrument.is_future or self.settings.settlement_days is None:
            return self.venue.settlement_days(instrument)
        return self.settings.settlement_days

    def _tca(self, j: int, order: Order, fills) -> None:
        i = self.row[order.symbol]
        arrival = float(self.panel.fields["open"][i, j])
        lo = max(0, j - self.settings.cost_window_days)
        try:
            predicted = self.venue.daily_bar_slippage(
                order.instrument, order.quantity, float(order.reference_price), self.panel.fields["close"][i, lo:j],
                self.panel.fields["volume"][i, lo:j], self.settings.impact_coef).slippage
        except ValueError:
            predicted = float("nan")
        filled = sum(f.quantity for f in fills)
        if filled and np.isfinite(arrival) and arrival > 0:
            vwap = sum(float(f.price) * f.quantity for f in fills) / filled
            actual = order.side.sign * (vwap - arrival) / arrival
        else:
            vwap = actual = float("nan")
        self.residual_rows.append({
            "date": pd.Timestamp(self.panel.dates[j]).date(), "client_order_id": order.client_order_id,
            "symbol": order.symbol, "side": order.side.value, "approved_quantity": order.quantity,
            "filled_quantity": filled, "arrival_price": arrival, "fill_vwap": vwap, "actual_cost": actual,
            "predicted_cost": predicted, "execution_residual": actual - predicted,
            "residual_twd": (actual - predicted) * arrival * filled if filled else 0.0,
            "cost_model": "daily_bar_estimate"})


def _run_id(pipeline_sha: str, start: dt.date, end: dt.date) -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return "P" + hashlib.sha256(f"{pipeline_sha}{start}{end}{stamp}".encode()).hexdigest()[:8]


def run_paper(panel: Panel, targets: pd.DataFrame, start: dt.date, end: dt.date, out: Path, *,
              rules: list[Any], router: Any, broker: Any, store_engine: Any = None, pretrade_hook: Any = None,
              on_daily_loss_limit: TradingState = TradingState.REDUCING, flatten_on_halt: bool = True,
              settings: PaperSettings | None = None, pipeline_sha: str = "", venue: Venue | None = None,
              report_hook: Any = None) -> PaperResult:
    """Run the paper loop and write its outputs to ``out`` (see the module docstring). ``venue``:
    the pipeline's (:func:`jgod_core.venue.venue_for`); None: :func:`jgod_core.venue.default_venue`.
    Orders built during the run ask that venue. ``report_hook``: the pipeline kernel's hook relay, so
    the report holds the sections of the pipeline's own plugins."""
    settings = settings or PaperSettings()
    venue = venue if venue is not None else default_venue()
    dates = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    first = int(dates.searchsorted(pd.Timestamp(start)))
    last = int(dates.searchsorted(pd.Timestamp(end), side="right")) - 1
    first = max(first, 1)
    if last < first:
        raise PaperError(f"no trading days with prices between {start} and {end} "
                         f"(panel covers {dates[0].date()} .. {dates[-1].date()})")
    audit = state_store = journal = None
    if store_engine is not None:
        audit = AuditLog(store_engine, settings.model_version, is_real_trade=False)
        state_store = TradingStateStore(store_engine, settings.model_version)
        journal = OrderJournal(store_engine, audit, broker.name, settings.model_version)
    engine = RiskEngine(rules, state_store=state_store, pretrade_hook=pretrade_hook, audit=audit,
                        on_daily_loss_limit=on_daily_loss_limit, model_version=settings.model_version)
    run_id = _run_id(pipeline_sha, start, end)
    timeline_start = len(engine.state_store.timeline())
    session = PaperSession(panel, targets, engine, router, broker, journal, settings, run_id, flatten_on_halt, venue)
    with use_venue(venue):
        for j in range(first, last + 1):
            session.run_day(j)
    states = pd.DataFrame([{"ts": c.ts, "state": c.state.value, "reason": c.reason, "actor": c.actor}
                           for c in engine.state_store.timeline()[timeline_start:]],
                          columns=["ts", "state", "reason", "actor"])
    initial_state = engine.state_store.current() if states.empty else None
    verdicts = pd.DataFrame(engine.verdict_log)
    if not verdicts.empty:
        verdicts["numbers"] = verdicts["numbers"].map(lambda d: json.dumps(d, ensure_ascii=False, default=str))
    result = PaperResult(pd.DataFrame(session.order_rows), pd.DataFrame(session.fill_rows), verdicts, states,
                         pd.DataFrame(session.residual_rows), pd.DataFrame(session.equity_rows))
    result.summary = _summary(result, run_id, dates[first].date(), dates[last].date(), settings, initial_state)
    write_paper_outputs(result, out, hook=report_hook)
    return result




def _summary(result: PaperResult, run_id: str, first: dt.date, last: dt.date, settings: PaperSettings,
             initial_state) -> dict[str, Any]:
    v = result.verdicts
    denied = v[v["action"] == "deny"] if not v.empty else v
    reduced = v[v["action"] == "reduce"] if not v.empty else v
    r = result.residuals
    equity = result.equity
    return {
        "run_id": run_id, "first_day": str(first), "last_day": str(last), "trading_days": len(equity),
        "initial_cash": settings.initial_cash,
        "final_equity": float(equity["equity"].iloc[-1]) if len(equity) else settings.initial_cash,
        "parent_orders": int(len(r)), "fills": int(len(result.fills)),
        "denials_by_rule": denied["rule"].value_counts().to_dict() if len(denied) else {},
        "reductions_by_rule": reduced["rule"].value_counts().to_dict() if len(reduced) else {},
        "mean_actual_cost_bps": mean_bps(r.get("actual_cost")),
        "mean_predicted_cost_bps": mean_bps(r.get("predicted_cost")),
        "mean_execution_residual_bps": mean_bps(r.get("execution_residual")),
        "state_changes": int(len(result.states)),
        "state_at_start": initial_state.state.value if initial_state is not None else None,
        "fill_basis": "daily_bar_estimate (no recorded TWSE books in the sample)",
    }


def write_paper_outputs(result: PaperResult, out: Path, hook: Any = None) -> None:
    """Write the paper run's CSVs, summary and ``risk_report.html``, and add the report sections the
    plugins return for it (``jgod_report_sections``; ``hook`` is the pipeline kernel's, else the
    default kernel's) to the run's ``report.html``."""
    from jgod_core.plugin.manager import load_kernel

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("orders", result.orders), ("fills", result.fills), ("risk_verdicts", result.verdicts),
                        ("trading_state", result.states), ("execution_residual", result.residuals),
                        ("equity", result.equity)):
        tmp = out / f".{name}.csv.tmp"
        frame.to_csv(tmp, index=False)
        tmp.replace(out / f"{name}.csv")
    (out / "paper_summary.json").write_text(json.dumps(result.summary, indent=1, default=str), encoding="utf-8")
    contributed = (hook or load_kernel().hook).jgod_report_sections(result=result)
    section = "".join(s.to_html() for sections in contributed for s in sections or ())
    (out / "risk_report.html").write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>risk and "
                                          f"execution</title></head><body>{section}</body></html>", encoding="utf-8")
    report = out / "report.html"
    if report.exists():
        html = report.read_text(encoding="utf-8")
        marker = "<!-- jgod:risk-execution -->"
        if marker not in html:
            html = html.replace("</body>", f"{marker}{section}</body>") if "</body>" in html else html + marker + section
            report.write_text(html, encoding="utf-8")
