"""``tw_backtest``: a Taiwan-realistic daily backtest of target weights.

What it computes: trades, costs, cash and equity of a cash account that follows the target
weights a combiner decided at the close of day ``t``.

Inputs (all from the panel, raw TWD): ``open``/``close`` (the fill price and the mark),
``halted``, optional ``adj_factor`` (only to move the price-limit reference across ex-dates),
the ``security_type`` attribute (ETF tax and tick ladder; codes starting ``00`` count as ETFs).

Rules (SPEC §9, constants and ladder from :mod:`jgod_plugins.tw_market.rules`):

- a decision at the close of ``t`` is sized with information of ``t`` (equity and close of
  ``t``) and becomes an order at ``t + execution_lag_days`` (≥ 1, never ``t``); the order stands
  (day by day) until it fills or the next decision replaces it;
- whole board lots of 1000 shares (``odd_lot: true`` trades single shares);
- fills at the open (or the close) of the execution day, on the tick ladder; a buy at or above
  limit-up and a sell at or below limit-down (±10 % of the reference price; ±7 % before
  2015-06-01, from ``market_rules.PRICE_LIMITS``) do not fill;
  halted days and days without a price do not trade;
- commission ``floor(notional × 0.1425 % × discount)``, at least NT$20, on both sides; sell tax
  0.3 % (0.1 % for ETFs), floored to whole NT$;
- T+2 cash: trade amounts settle ``settlement_days`` trading days later; buying power is settled
  cash plus the net of unsettled amounts (same-day sell proceeds fund buys, as TWSE nets
  settlement); ``equity = cash + unsettled + Σ shares × last close``;
- shorts (negative targets, ``long_short`` portfolios) are credited the sale proceeds and pay
  the sell tax; borrow fees and margin deposits are not modelled.

Warm-up: none. Lag: ``execution_lag_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from numba import njit
from pydantic import Field

from jgod_core.data.panel import Panel
from jgod_core.plugin.components import Backtester, DataKind, ExecutionAssumptions, Params
from jgod_plugins.tw_market import rules as market_rules
from jgod_plugins.tw_market.settlement import settle_due, unsettled_after

LADDER = (market_rules.STOCK_LADDER_BOUNDS, market_rules.STOCK_LADDER_TICKS,
          market_rules.ETF_LADDER_BOUNDS, market_rules.ETF_LADDER_TICKS)


class TaiwanBacktestParams(Params):
    """Params of :class:`TaiwanBacktest`."""

    initial_cash: float = Field(10_000_000.0, gt=0, le=1e13, description="Starting cash, NT$.")
    execution_lag_days: int = Field(
        1, ge=1, le=20, description="Trading days between the decision close and the fill (never 0)."
    )
    fill_price: Literal["open", "close"] = Field("open", description="Fill at the open or the close of the fill day.")
    commission_discount: float = Field(
        1.0, gt=0, le=1, description="Broker discount multiplier on the 0.1425 % commission (0.28 = 2.8折)."
    )
    min_commission: float = Field(
        market_rules.MIN_COMMISSION_TWD, ge=0, le=1000, description="Commission floor per trade, NT$."
    )
    odd_lot: bool = Field(False, description="Trade single shares (odd-lot mode) instead of 1000-share lots.")
    settlement_days: int = Field(2, ge=0, le=5, description="Trading days until a trade settles in cash (T+2).")


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest produced, as pandas frames at the edge.

    ``trades``: ``date, symbol, side, shares, price, commission, tax``;
    ``equity``: ``date, equity, cash, unsettled, gross, net`` (exposures as fractions of equity).
    """

    trades: pd.DataFrame
    equity: pd.DataFrame
    initial_cash: float


def is_etf(panel: Panel) -> np.ndarray:
    """True per symbol for ETFs: ``security_type`` says so, or the code starts with ``00``."""
    codes = np.array([s.startswith("00") for s in panel.symbols], dtype=bool)
    kinds = panel.attributes.get("security_type")
    if kinds is None:
        return codes
    text = np.array([str(k).upper() if k is not None else "" for k in kinds], dtype=object)
    return codes | np.array(["ETF" in k for k in text], dtype=bool)


@njit(cache=True)
def _commission(notional, rate, minimum):
    # Mirrors market_rules.commission (floor to whole NT$, floor at minimum); tests compare both.
    if notional <= 0.0:
        return 0.0
    fee = np.floor(notional * rate + 1e-9)
    return fee if fee > minimum else minimum


@njit(cache=True)
def _on_ladder(price, etf, mode, ladder):
    # Mirrors market_rules.round_to_tick / limit_up / limit_down for one price (mode 0 nearest,
    # 1 down, 2 up) so the event loop needs no whole-grid pass; tests compare both on every price.
    stock_bounds, stock_ticks, etf_bounds, etf_ticks = ladder
    if etf:
        tick = etf_ticks[np.searchsorted(etf_bounds, price, side="right")]
    else:
        tick = stock_ticks[np.searchsorted(stock_bounds, price, side="right")]
    units = price / tick
    if mode == 1:
        k = np.floor(units + 1e-9)
    elif mode == 2:
        k = np.ceil(units - 1e-9)
    else:
        k = np.floor(units + 0.5)
    return np.round(k * tick, 2)


@njit(cache=True)
def _fill_price(raw, etf, ladder):
    """The fill price on the ladder, NaN when the day does not trade (halt, no price)."""
    if not (raw > 0.0):
        return np.nan
    return _on_ladder(raw, etf, 0, ladder)


@njit(cache=True)
def _run_loop(
    fill_price, mark_price, adj_factor, etf, decision_of_day, decision_weight, sell_tax_rate,
    first_day, lag, lot, commission_rate, min_commission, settlement_days, initial_cash, ladder, limit_fraction,
):
    t, n = fill_price.shape  # date-major: one day's symbols are contiguous
    ref = np.empty(n)
    last_adj = np.full(n, np.nan)
    shares = np.zeros(n)
    target = np.zeros(n)
    has_adj = adj_factor.shape[0] == t
    order_shares = np.full(decision_weight.shape, np.nan)
    last_mark = np.full(n, np.nan)
    pending = np.zeros(t + settlement_days + 1)
    cash = initial_cash
    max_trades = n * (t - first_day) if t > first_day else 0
    tr_day = np.empty(max_trades, np.int64)
    tr_sym = np.empty(max_trades, np.int64)
    tr_qty = np.empty(max_trades)
    tr_price = np.empty(max_trades)
    tr_comm = np.empty(max_trades)
    tr_tax = np.empty(max_trades)
    k = 0
    for j in range(min(first_day, t)):  # the warm-up days only seed the reference prices
        for i in range(n):
            if mark_price[j, i] == mark_price[j, i]:
                last_mark[i] = mark_price[j, i]
            if has_adj and adj_factor[j, i] == adj_factor[j, i]:
                last_adj[i] = adj_factor[j, i]
    out_equity = np.full(t, np.nan)
    out_cash = np.full(t, np.nan)
    out_unsettled = np.full(t, np.nan)
    out_long = np.full(t, np.nan)
    out_short = np.full(t, np.nan)
    for j in range(first_day, t):
        cash += settle_due(pending, j)
        # the same products as market_rules.limit_up / limit_down, with the limit in force on day j
        limit_up_factor = 1.0 + limit_fraction[j]
        limit_down_factor = 1.0 - limit_fraction[j]
        for i in range(n):
            # price-limit reference: the last close, moved across ex-dates by adj_factor
            ref[i] = last_mark[i]
            a = adj_factor[j, i] if has_adj else np.nan
            if a == a:
                if last_adj[i] == last_adj[i]:
                    ref[i] = ref[i] * last_adj[i] / a
                last_adj[i] = a
        d = j - lag
        if d >= first_day and decision_of_day[d] >= 0:
            row = decision_of_day[d]
            for i in range(n):
                if not np.isnan(order_shares[row, i]):
                    target[i] = order_shares[row, i]
        # sells (and short sales) first: their proceeds count toward today's buying power
        for i in range(n):
            if target[i] < shares[i]:
                p = _fill_price(fill_price[j, i], etf[i], ladder)
                if p != p or (ref[i] > 0.0 and p <= _on_ladder(ref[i] * limit_down_factor, etf[i], 2, ladder) + 1e-9):
                    continue
                qty = shares[i] - target[i]
                notional = qty * p
                comm = _commission(notional, commission_rate, min_commission)
                tax = np.floor(notional * sell_tax_rate[i] + 1e-9)
                pending[j + settlement_days] += notional - comm - tax
                shares[i] -= qty
                tr_day[k] = j
                tr_sym[k] = i
                tr_qty[k] = -qty
                tr_price[k] = p
                tr_comm[k] = comm
                tr_tax[k] = tax
                k += 1
        unsettled = unsettled_after(pending, j, settlement_days)
        buying_power = cash + unsettled
        for i in range(n):
            if target[i] > shares[i]:
                p = _fill_price(fill_price[j, i], etf[i], ladder)
                if p != p or (ref[i] > 0.0 and p >= _on_ladder(ref[i] * limit_up_factor, etf[i], 1, ladder) - 1e-9):
                    continue
                qty = target[i] - shares[i]
                cost = qty * p + _commission(qty * p, commission_rate, min_commission)
                if cost > buying_power:
                    qty = np.floor(buying_power / (p * (1.0 + commission_rate)) / lot) * lot
                    while qty > 0 and qty * p + _commission(qty * p, commission_rate, min_commission) > buying_power:
                        qty -= lot
                    if qty <= 0:
                        continue
                notional = qty * p
                comm = _commission(notional, commission_rate, min_commission)
                pending[j + settlement_days] -= notional + comm
                buying_power -= notional + comm
                shares[i] += qty
                tr_day[k] = j
                tr_sym[k] = i
                tr_qty[k] = qty
                tr_price[k] = p
                tr_comm[k] = comm
                tr_tax[k] = 0.0
                k += 1
        long_value = 0.0
        short_value = 0.0
        for i in range(n):
            if not np.isnan(mark_price[j, i]):
                last_mark[i] = mark_price[j, i]
            if shares[i] != 0.0:
                v = shares[i] * last_mark[i]
                if v > 0:
                    long_value += v
                else:
                    short_value += v
        unsettled = unsettled_after(pending, j, settlement_days)
        equity = cash + unsettled + long_value + short_value
        out_equity[j] = equity
        out_cash[j] = cash
        out_unsettled[j] = unsettled
        out_long[j] = long_value
        out_short[j] = short_value
        # decision at the close of j, sized with the equity and close of j only
        row = decision_of_day[j]
        if row >= 0:
            for i in range(n):
                w = decision_weight[row, i]
                if np.isnan(w) or np.isnan(last_mark[i]) or last_mark[i] <= 0:
                    continue
                raw = w * equity / last_mark[i] / lot
                order_shares[row, i] = (np.floor(raw) if raw >= 0 else np.ceil(raw)) * lot
    return (tr_day[:k], tr_sym[:k], tr_qty[:k], tr_price[:k], tr_comm[:k], tr_tax[:k],
            out_equity, out_cash, out_unsettled, out_long, out_short)


class TaiwanBacktest(Backtester[TaiwanBacktestParams]):
    """Taiwan cash-account backtest: lots, tick ladder, daily price limits, halts, costs, T+2."""

    name = "tw_backtest"
    version = "1.0.0"
    Params = TaiwanBacktestParams
    requires = frozenset({DataKind.DAILY_BARS, DataKind.SECURITY_MASTER})

    lot_shares: ClassVar[int] = market_rules.BOARD_LOT_SHARES

    def execution_assumptions(self) -> ExecutionAssumptions:
        """A decision at the close of ``t`` fills at ``fill_price`` of ``t + execution_lag_days``."""
        return ExecutionAssumptions(lag_days=int(self.params.execution_lag_days), fill_price=self.params.fill_price)

    def prepare(self, panel: Panel) -> dict:
        """The arrays the event loop reads; ladder, limits and tradability are applied inside it."""
        n, t = panel.shape
        etf = is_etf(panel)
        halted = panel.fields.get("halted")
        adj = panel.fields.get("adj_factor")
        # the event loop walks day by day: date-major copies keep each day's symbols contiguous
        return {
            "fill": np.ascontiguousarray(
                (panel.field(self.params.fill_price) if halted is None
                 else np.where(halted == 1, np.nan, panel.field(self.params.fill_price))).T, dtype=np.float64),
            "mark": np.ascontiguousarray(panel.field("close").T, dtype=np.float64),
            "adj": np.empty((0, n)) if adj is None else np.ascontiguousarray(adj.T, dtype=np.float64),
            "etf": etf,
            "tax": np.where(etf, market_rules.SELL_TAX_ETF, market_rules.SELL_TAX_STOCK).astype(float),
        }

    def run(self, panel: Panel, target_weights: np.ndarray, first_day: int = 0) -> BacktestResult:
        """Follow ``target_weights`` (n, t): a column with any finite value is a decision at that close.

        NaN in a decision column keeps that symbol's standing target. Equity starts on ``first_day``.
        """
        if target_weights.shape != panel.shape:
            raise ValueError(f"target weights have shape {target_weights.shape}, panel is {panel.shape}")
        p = self.params
        arrays = self.prepare(panel)
        lot = 1.0 if p.odd_lot else float(self.lot_shares)
        decision_days = np.nonzero(np.isfinite(target_weights).any(axis=0))[0]
        decision_of_day = np.full(panel.shape[1], -1, dtype=np.int64)
        decision_of_day[decision_days] = np.arange(len(decision_days))
        out = _run_loop(
            arrays["fill"], arrays["mark"], arrays["adj"], arrays["etf"], decision_of_day,
            np.ascontiguousarray(target_weights[:, decision_days].T, dtype=np.float64), arrays["tax"], int(first_day),
            int(p.execution_lag_days), lot, market_rules.COMMISSION_RATE * p.commission_discount,
            float(p.min_commission), int(p.settlement_days), float(p.initial_cash), LADDER,
            market_rules.price_limits_on(panel.dates),
        )
        day, sym, qty, price, comm, tax, equity, cash, unsettled, long_v, short_v = out
        dates = pd.DatetimeIndex(panel.dates.astype("datetime64[ns]"))
        symbols = np.asarray(panel.symbols, dtype=object)
        trades = pd.DataFrame({
            "date": dates[day],
            "symbol": symbols[sym],
            "side": np.where(qty > 0, "buy", "sell"),
            "shares": np.abs(qty).astype(np.int64),
            "price": price,
            "commission": comm,
            "tax": tax,
        })
        keep = slice(int(first_day), None)
        eq = equity[keep]
        equity_frame = pd.DataFrame({
            "date": dates[keep],
            "equity": eq,
            "cash": cash[keep],
            "unsettled": unsettled[keep],
            "gross": (long_v[keep] - short_v[keep]) / eq,
            "net": (long_v[keep] + short_v[keep]) / eq,
        })
        return BacktestResult(trades, equity_frame, float(p.initial_cash))
