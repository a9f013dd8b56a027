"""One live trading day: the pipeline's target orders through the risk gate and router to the configured broker.

``jgod trade PIPELINE --date D`` (see :mod:`jgod_core.cli_trading`) is the paper loop's order path
(:class:`jgod_core.paper_trading.PaperSession`: parent order → risk engine → router → each slice
through the risk engine again → journaled → ``RiskEngine.send``) for one day, with the broker
named in ``execution.broker`` (e.g. ``shioaji``, simulation or production per its params) instead
of the paper broker:

1. the broker connects first — credentials come only from the environment, so a missing one
   stops the command before any data is loaded or any order is built;
2. the decision uses data up to the previous close only: targets dated the last panel date
   before ``day``, reference = that close (the ±10 % band is measured from it);
3. positions are the ones given (``--positions``), else flat; equity = cash + positions marked
   at the previous close;
4. the trading state in the store is respected (HALTED refuses to trade; ``jgod resume`` first);
5. every order status is journaled before the send and every event goes to the audit chain,
   with ``is_real_trade`` true unless the broker runs in simulation;
6. slices are sent at once (each carries its schedule window; timed release of later slices is
   not implemented); fills arrive through the broker's deal callbacks (``drain_fills``).

Outputs in ``out``: ``orders.csv``, ``fills.csv``, ``risk_verdicts.csv``, ``trade_summary.json``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from jgod_core.audit import AuditLog
from jgod_core.errors import JGodError
from jgod_core.market_view import PanelMarketView
from jgod_core.order_journal import OrderJournal
from jgod_core.orders import Order, TradingState
from jgod_core.panel import Panel
from jgod_core.paper_trading import PaperSession, PaperSettings, _run_id, _weights_on
from jgod_core.risk_engine import RiskEngine, TradingStateStore

LIVE_MODEL_VERSION = "live"


class TradeError(JGodError):
    """The day cannot be traded (no targets, halted, data not up to the previous close)."""


class LiveSession(PaperSession):
    """The paper session's order path with a real broker: no simulated day bars, no TCA against today's open
    (today's prices are not known when the orders are sent)."""

    def _tca(self, j: int, order: Order, fills) -> None:
        filled = sum(f.quantity for f in fills)
        self.residual_rows.append({"client_order_id": order.client_order_id, "symbol": order.symbol,
                                   "approved_quantity": order.quantity, "filled_at_send": filled})


def trade_day(panel: Panel, targets: pd.DataFrame, day: dt.date, out: Path, *, rules: list[Any], router: Any,
              broker: Any, store_engine: Any, pretrade_hook: Any = None,
              on_daily_loss_limit: TradingState = TradingState.REDUCING, flatten_on_halt: bool = True,
              cash: float, positions: dict[str, int] | None = None, is_real_trade: bool = False,
              pipeline_sha: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
    """Send ``day``'s orders to ``broker`` (connected) and write the outputs; returns the summary."""
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
    journal = OrderJournal(store_engine, audit, broker.name, settings.model_version)
    engine = RiskEngine(rules, state_store=state_store, pretrade_hook=pretrade_hook, audit=audit,
                        on_daily_loss_limit=on_daily_loss_limit, model_version=settings.model_version)
    run_id = "L" + _run_id(pipeline_sha, day, day)[1:]
    session = LiveSession(panel, targets, engine, router, broker, journal, settings, run_id, flatten_on_halt)
    unknown = sorted(set(positions or {}) - set(session.row))
    if unknown:
        raise TradeError(f"positions name symbols the pipeline has no prices for: {', '.join(unknown)}")
    session.positions = {s: int(q) for s, q in (positions or {}).items() if q}
    ts = now or dt.datetime.combine(day, dt.time(9, 0))
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
               "child_orders_sent": len(sent), "fills": len(session.fill_rows), "state": engine.state.value}
    (out / "trade_summary.json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    return summary
