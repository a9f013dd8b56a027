"""One live trading day: the pipeline's target orders through the risk gate and router to the configured broker.

``jgod trade PIPELINE --date D`` (see :mod:`jgod_core.cli.trading`) is the paper loop's order path
(:class:`jgod_core.execution.paper.PaperSession`: parent order → risk engine → router → each slice
through the risk engine again → journaled → ``RiskEngine.send``) for one day, with the broker
named in ``execution.broker`` (e.g. ``shioaji``, simulation or production per its params) instead
of the paper broker:

1. the broker connects first — credentials come only from the environment, so a missing one
   stops the command before any data is loaded or any order is built;
2. the decision uses data up to the previous close only: targets dated the last panel date
   before ``day``, reference = that close (the ±10 % band is measured from it);
3. positions and cash come from the broker (``broker.account()`` → :class:`~jgod_core.execution.orders.AccountReport`:
   Shioaji's ``list_positions`` / ``account_balance`` / ``settlements``), so a second day trades
   from what the first one bought. They are reconciled against the order journal: working
   orders of earlier sessions are journaled EXPIRED (ROD), and every symbol where the broker's
   position differs from the journaled fills is listed in ``trade_summary.json``
   (``position_differences``; the broker's figure is traded from). Orders of this broker still
   working from an earlier run the same day stop the command (it would trade them twice).
   Holdings outside the pipeline's universe are left alone and not counted in equity.
   Cash = the broker's figure, capped by ``cash_cap`` (``--cash``) when given; a broker that
   does not report cash needs ``--cash``. Equity = cash + positions at the previous close;
4. the trading state in the store is respected (HALTED refuses to trade; ``jgod resume`` first);
5. every order status is journaled before the send and every event goes to the audit chain,
   with ``is_real_trade`` true unless the broker runs in simulation;
6. slices are released at their scheduled times (open + the router's ``start_minute``, paced to the
   submit pace (a rule's ``pacing()``, e.g. ``submit_throttle``), see :meth:`PaperSession._release`): the command waits on the wall
   clock (the venue's zone, Asia/Taipei for ``tw``) until each release, so a TWAP over the
   session keeps it running until the last slice is sent; fills arrive through the broker's deal
   callbacks (``drain_fills``), taken in while it waits and once more at the end.

Outputs in ``out``: ``orders.csv``, ``fills.csv``, ``risk_verdicts.csv``, ``trade_summary.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from jgod_core.data.panel import Panel
from jgod_core.errors import JGodError
from jgod_core.execution.audit import AuditLog
from jgod_core.execution.journal import OrderJournal, reconcile_positions
from jgod_core.execution.orders import Order, TradingState
from jgod_core.execution.paper import PaperSession, PaperSettings, _run_id, _weights_on
from jgod_core.risk.engine import RiskEngine, TradingStateStore
from jgod_core.risk.market_view import PanelMarketView
from jgod_core.timeutil import zone
from jgod_core.venue import Venue, default_venue, use_venue

LIVE_MODEL_VERSION = "live"


class TradeError(JGodError):
    """The day cannot be traded (no targets, halted, data not up to the previous close)."""


class LiveSession(PaperSession):
    """The paper session's order path with a real broker: no simulated day bars, no TCA against today's open
    (today's prices are not known when the orders are sent)."""

    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def clock(self) -> dt.datetime:
        """Now, as naive wall-clock time in the venue's zone (the zone of the release times)."""
        return dt.datetime.now(zone(self.venue.timezone)).replace(tzinfo=None)

    def _wait_until(self, ts: dt.datetime) -> None:
        delay = (ts - self.clock()).total_seconds()
        if delay > 0:
            self.sleep(delay)
        if hasattr(self.broker, "drain_fills"):
            self._apply_fills(self.broker.drain_fills(), ts)

    def _tca(self, j: int, order: Order, fills) -> None:
        filled = sum(f.quantity for f in fills)
        self.residual_rows.append({"client_order_id": order.client_order_id, "symbol": order.symbol,
                                   "approved_quantity": order.quantity, "filled_at_send": filled})


def trade_day(panel: Panel, targets: pd.DataFrame, day: dt.date, out: Path, *, rules: list[Any], router: Any,
              broker: Any, store_engine: Any, pretrade_hook: Any = None,
              on_daily_loss_limit: TradingState = TradingState.REDUCING, flatten_on_halt: bool = True,
              cash_cap: float | None = None, is_real_trade: bool = False,
              pipeline_sha: str = "", now: dt.datetime | None = None,
              sleep: Callable[[float], None] | None = None, venue: Venue | None = None) -> dict[str, Any]:
    """Send ``day``'s orders to ``broker`` (connected) and write the outputs; returns the summary.
    ``venue``: the pipeline's; None: :func:`jgod_core.venue.default_venue`."""
    venue = venue if venue is not None else default_venue()
    with use_venue(venue):
        return _trade_day(panel, targets, day, out, rules=rules, router=router, broker=broker,
                          store_engine=store_engine, pretrade_hook=pretrade_hook,
                          on_daily_loss_limit=on_daily_loss_limit, flatten_on_halt=flatten_on_halt,
                          cash_cap=cash_cap, is_real_trade=is_real_trade, pipeline_sha=pipeline_sha, now=now,
                          sleep=sleep, venue=venue)


def _trade_day(panel: Panel, targets: pd.DataFrame, day: dt.date, out: Path, *, rules: list[Any], router: Any,
               broker: Any, store_engine: Any, pretrade_hook: Any, on_daily_loss_limit: TradingState,
               flatten_on_halt: bool, cash_cap: float | None, is_real_trade: bool, pipeline_sha: str,
               now: dt.datetime | None, sleep: Callable[[float], None] | None, venue: Venue) -> dict[str, Any]:
    report_account = getattr(broker, "account", None)
    if report_account is None:
        raise TradeError(f"broker {broker.name!r} cannot report the account's positions (no account())")
    report = report_account()
    if report.cash is None and cash_cap is None:
        raise TradeError(f"broker {broker.name!r} did not report cash ({report.cash_basis}); give --cash")
    cash = report.cash if cash_cap is None else (cash_cap if report.cash is None else min(cash_cap, report.cash))
    dates = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
    j = int(dates.searchsorted(pd.Timestamp(day)))  # first panel date ≥ day: decide on the one before
    if j == 0:
        raise TradeError(f"no data before {day}: the panel starts {dates[0].date()}")
    decision_date = dates[j - 1].date()
    weights = _weights_on(targets, panel.dates[j - 1])
    if weights is None:
        raise TradeError(f"no target weights on {decision_date} (the last trading day before {day})")
    settings = PaperSettings(initial_cash=cash, model_version=LIVE_MODEL_VERSION)
    audit = AuditLog(store_engine, settings.model_version, is_real_trade=is_real_trade)
    state_store = TradingStateStore(store_engine, settings.model_version, is_real_trade=is_real_trade)
    journal = OrderJournal(store_engine, audit, broker.name, settings.model_version, is_real_trade)
    engine = RiskEngine(rules, state_store=state_store, pretrade_hook=pretrade_hook, audit=audit,
                        on_daily_loss_limit=on_daily_loss_limit, model_version=settings.model_version)
    run_id = "L" + _run_id(pipeline_sha, day, day)[1:]
    session = LiveSession(panel, targets, engine, router, broker, journal, settings, run_id, flatten_on_halt, venue)
    if sleep is not None:
        session.sleep = sleep
    session.j = j  # the broker's cash already nets what is unsettled; today's fills settle T+2 on the ledger
    ts = now or dt.datetime.combine(day, venue.session_hours(day)[0])
    expired = journal.expire_before(day, ts)
    still_working = sorted(cid for cid, on in journal.working_orders() if on >= day)
    if still_working:
        raise TradeError(f"{len(still_working)} order(s) of an earlier run on {day} are still working at "
                         f"{broker.name} ({', '.join(still_working[:3])}…); cancel them or wait for their fills")
    differences = reconcile_positions(journal.positions(), report.positions)
    outside = sorted(set(report.positions) - set(session.row))
    session.positions = {s: int(q) for s, q in report.positions.items() if q and s in session.row}
    at_start = dict(session.positions)
    ctx = session.ctx
    ctx.now = ts
    ctx.market = PanelMarketView(panel, j - 1)
    ctx.positions = session.positions
    ctx.mark_prices = session._mark(j - 1)
    equity = session.equity(j - 1)
    ctx.equity = ctx.day_start_equity = equity
    engine.start_session(ts)
    state = engine.state_store.current()
    if state.state is TradingState.HALTED:
        raise TradeError(f"the trading state is HALTED ({state.reason}); run `jgod resume` to trade")
    session._rebalance(j, weights, equity, ts)
    late_fills = broker.drain_fills() if hasattr(broker, "drain_fills") else []
    session._apply_fills(late_fills, ts)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("orders", session.order_rows), ("fills", session.fill_rows),
                       ("risk_verdicts", engine.verdict_log)):
        frame = pd.DataFrame(rows)
        if name == "risk_verdicts" and not frame.empty:
            frame["numbers"] = frame["numbers"].map(lambda d: json.dumps(d, ensure_ascii=False, default=str))
        tmp = out / f".{name}.csv.tmp"
        frame.to_csv(tmp, index=False)
        tmp.replace(out / f"{name}.csv")
    sent = [r for r in session.order_rows if r["status"] == "submitted" and r["parent_id"]]
    summary = {"run_id": run_id, "day": str(day), "decision_date": str(decision_date), "broker": broker.name,
               "is_real_trade": is_real_trade, "equity": equity, "parent_orders": len(session.residual_rows),
               "child_orders_sent": len(sent), "fills": len(session.fill_rows), "state": engine.state.value,
               "cash": cash, "cash_basis": report.cash_basis, "positions_at_start": at_start,
               "position_differences": differences, "positions_outside_universe": outside,
               "expired_from_earlier_sessions": len(expired)}
    (out / "trade_summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    return summary
