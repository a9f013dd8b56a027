"""Paper broker: simulated fills against recorded 5-level books, else against daily bars (labelled estimate).

**Book mode** (a recorded book replay is attached for the symbol): a child order is walked through
the opposite side of the latest snapshot at or before its time, up to its limit price, level by
level (partial fills). What is left rests at the limit price behind the displayed quantity at that
price (queue position approximated by the size shown on arrival); later trades at or through the
price first consume the queue ahead, then fill the order.

**Daily-bar mode** (no book; fills are labelled ``daily_bar_estimate``): arrival price = the day's
open; slippage = half a tick + ``impact_coef`` × σ_day × sqrt(q / day volume), with σ_day the
Parkinson volatility ln(H/L) / (2·sqrt(ln 2)) of that day; the price is rounded onto the ladder
against the trader, kept inside the day's high–low range and the order's limit. At most
``participation_cap`` of the day's volume fills (the rest expires at the close). Halted days
(no price) never fill; a buy never fills on a day locked limit-up (high = low = limit-up) nor a
sell on a day locked limit-down.

**Futures mode** (orders with ``asset=future``: TAIFEX TX, MTX …, in whole contracts): fills
against the recorded prints of the contract — 1-minute bars (the TX recording, or bars built
from the store's ticks) or single ticks (a tick is a bar with open = high = low = its price) —
handed to :meth:`PaperBroker.match_prints` in time order *after* the order was submitted (a
print stamped at or before the submission never fills it: no look-ahead). Per print, for a buy
at limit L (a sell mirrors it):

- the open ≤ L: the order was marketable when the print opened → fills at the open (the first
  price recorded after submission), never worse than L;
- else the low < L: the market traded through L, so the queue at L is gone → fills at L;
- a low exactly at L does not fill (queue position unknown; conservative);
- at most ``participation_cap`` × the print's volume (whole contracts) fills per print; the rest
  keeps working until cancelled or the session ends (:meth:`expire_day`).

Costs per fill: ``futures_fee_per_contract`` × contracts (the broker's fee, a param) and the
futures transaction tax, 0.002 % of price × multiplier × contracts on both buys and sells,
rounded to the NT$ (:func:`jgod_plugins.tw_market.rules.futures_tax`). Fills carry the contract
multiplier (NT$200 per TX point), so their notional and cash flow are NT$.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
from pydantic import Field

from jgod_core import Broker, Params
from jgod_core.execution.orders import ChildOrder, Fill, OrderStatus, Side, to_price
from jgod_plugins.tw_market.impact import BOOK_MODEL, DAILY_BAR_MODEL, Book5
from jgod_plugins.tw_market.rules import (
    BOARD_LOT_SHARES,
    commission,
    futures_tax,
    limit_down,
    limit_up,
    round_to_tick,
    sell_tax,
    tick_size,
)

RECORDED_BARS = "recorded_bars"  # fill basis: the contract's recorded 1-minute bars
RECORDED_TICKS = "recorded_ticks"  # fill basis: the contract's recorded ticks


class PaperBrokerParams(Params):
    participation_cap: float = Field(0.1, gt=0, le=1, description="Largest share of the day's volume one symbol may "
                                                                  "fill (daily-bar mode).")
    impact_coef: float = Field(0.5, ge=0, le=5, description="Square-root impact coefficient (daily-bar mode).")
    commission_discount: float = Field(1.0, gt=0, le=1, description="Broker discount on the 0.1425 % commission.")
    futures_fee_per_contract: float = Field(0.0, ge=0, le=5000, description="Futures: the broker's fee per contract "
                                                                            "and side, NT$ (0: not charged).")


@dataclass
class WorkingOrder:
    """A child order the paper broker holds, with its fills so far and its queue position."""

    order: ChildOrder
    status: OrderStatus = OrderStatus.ACCEPTED
    filled: int = 0
    queue_ahead: float = 0.0
    fills: list[Fill] = field(default_factory=list)
    submitted_ns: int = 0  # broker clock at submission (futures mode: only later prints fill it)

    @property
    def remaining(self) -> int:
        return self.order.quantity - self.filled


@dataclass(frozen=True)
class BookReplay:
    """Recorded books and trades of one instrument, time-ordered (ns epoch)."""

    book_ts: np.ndarray  # (m,)
    bid_px: np.ndarray  # (m, 5)
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray
    trade_ts: np.ndarray  # (k,)
    trade_px: np.ndarray
    trade_qty: np.ndarray
    trade_buyer_is_maker: np.ndarray | None = None  # True: a seller hit a bid (fills resting buys)

    def snapshot(self, ts_ns: int) -> Book5 | None:
        i = int(np.searchsorted(self.book_ts, ts_ns, side="right")) - 1
        if i < 0:
            return None
        return Book5(self.bid_px[i], self.bid_qty[i], self.ask_px[i], self.ask_qty[i], int(self.book_ts[i]))

    @classmethod
    def from_frames(cls, books: pd.DataFrame, trades: pd.DataFrame, quantity_scale: float = 1.0) -> "BookReplay":
        """From the recorded ``book5`` and ``trades`` CSV layouts (``recv_ts_ns`` clocks).

        Sizes are multiplied by ``quantity_scale`` and rounded to whole order units (e.g. 1e5 turns
        BTC with 5 decimals into integer units of 0.00001 BTC).
        """
        def levels(side: str, what: str) -> np.ndarray:
            values = books[[f"{side}_{what}_{k}" for k in range(1, 6)]].to_numpy(float)
            return np.round(values * quantity_scale) if what == "qty" else values

        return cls(books["recv_ts_ns"].to_numpy(np.int64), levels("bid", "px"), levels("bid", "qty"),
                   levels("ask", "px"), levels("ask", "qty"), trades["recv_ts_ns"].to_numpy(np.int64),
                   trades["price"].to_numpy(float), np.round(trades["qty"].to_numpy(float) * quantity_scale),
                   trades["is_buyer_maker"].to_numpy(bool) if "is_buyer_maker" in trades else None)


class PaperBroker(Broker):
    """Fills approved child orders against recorded books or daily bars; keeps working orders."""

    name = "paper"
    version = "1.0.0"
    Params = PaperBrokerParams
    simulated: ClassVar[bool] = True  # fills in-process: `jgod paper` needs such a broker, `jgod trade` refuses it
    is_default: ClassVar[bool] = True  # the broker of `jgod paper` when the pipeline names no execution.broker

    def __init__(self, params: PaperBrokerParams | None = None) -> None:
        super().__init__(params)
        self.working: dict[str, WorkingOrder] = {}
        self.replays: dict[str, BookReplay] = {}
        self.bar: dict[str, dict[str, float]] = {}  # symbol -> today's open/high/low/close/volume/reference
        self.used_volume: dict[str, float] = {}
        self.clock_ns: int = 0

    # -- market binding (the paper loop sets what "today" looks like) ---------------------------

    def set_day(self, bars: dict[str, dict[str, float]]) -> None:
        """Today's bar per symbol (keys open, high, low, close, volume, reference, is_etf)."""
        self.bar = bars
        self.used_volume = {}

    def attach_replay(self, symbol: str, replay: BookReplay) -> None:
        self.replays[symbol] = replay

    # -- broker API -----------------------------------------------------------------------------

    def submit(self, approved) -> list[Fill]:
        order: ChildOrder = approved.order
        if order.client_order_id in self.working:
            return []  # idempotent: a retried submit with the same id never sends twice
        work = WorkingOrder(order, submitted_ns=self.clock_ns)
        self.working[order.client_order_id] = work
        if order.is_future:
            return []  # works until later prints of the contract reach it (match_prints)
        if order.symbol in self.replays:
            return self._walk_book(work)
        return self._fill_daily(work)

    def cancel(self, client_order_id: str) -> bool:
        work = self.working.get(client_order_id)
        if work is None or work.status.is_terminal:
            return False
        work.status = OrderStatus.CANCELLED
        return True

    def cancel_all(self, reason: str = "") -> list[str]:
        return [cid for cid, w in self.working.items() if not w.status.is_terminal and self.cancel(cid)]

    def expire_day(self) -> list[str]:
        """End of session: every ROD order still working expires."""
        expired = []
        for cid, w in self.working.items():
            if w.status.is_working:
                w.status = OrderStatus.EXPIRED
                expired.append(cid)
        return expired

    def open_orders(self) -> list[ChildOrder]:
        return [w.order for w in self.working.values() if w.status.is_working]

    # -- fills ---------------------------------------------------------------------------------

    def _fill(self, work: WorkingOrder, quantity: int, price: float, basis: str, ts: dt.datetime | None) -> Fill:
        order = work.order
        px = to_price(price)
        multiplier = order.multiplier
        notional = float(px) * quantity * multiplier
        if order.is_future:
            fee = int(round(self.params.futures_fee_per_contract * quantity))
            tax = int(futures_tax(notional))  # both sides
        else:
            fee = int(commission(notional, discount=self.params.commission_discount))
            tax = int(sell_tax(notional, order.is_etf)) if order.side is Side.SELL else 0
        # deterministic ids (client id + fill number): a restarted process never reuses one
        fill = Fill(order.client_order_id, order.symbol, order.side, int(quantity), px, fee, tax, ts, basis,
                    f"{order.client_order_id}-F{len(work.fills) + 1}", multiplier)
        work.filled += int(quantity)
        work.fills.append(fill)
        work.status = OrderStatus.FILLED if work.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        return fill

    def _fill_daily(self, work: WorkingOrder) -> list[Fill]:
        order = work.order
        bar = self.bar.get(order.symbol)
        if bar is None or not all(np.isfinite([bar["open"], bar["high"], bar["low"]])) or bar["volume"] <= 0:
            return []  # halted or no price today: the order works until it expires
        ref, etf = bar["reference"], bool(bar.get("is_etf", False))
        high, low, open_ = bar["high"], bar["low"], bar["open"]
        buy = order.side is Side.BUY
        as_of = bar.get("ts")  # the limit in force that day (±7 % before 2015-06-01)
        if buy and high == low and np.isclose(high, limit_up(ref, etf, as_of)):
            return []  # locked limit-up: no sellers
        if not buy and high == low and np.isclose(low, limit_down(ref, etf, as_of)):
            return []  # locked limit-down: no buyers
        limit = float(order.limit_price)
        if (buy and limit < low) or (not buy and limit > high):
            return []
        room = self.params.participation_cap * bar["volume"] - self.used_volume.get(order.symbol, 0.0)
        quantity = min(work.remaining, int(max(0.0, room) // BOARD_LOT_SHARES) * BOARD_LOT_SHARES)
        if quantity <= 0:
            return []
        estimate = daily_fill_slippage(open_, high, low, bar["volume"], quantity, etf, self.params.impact_coef)
        raw = open_ * (1 + (1 if buy else -1) * estimate)
        price = float(round_to_tick(raw, etf, "up" if buy else "down"))
        price = min(max(price, low), high)
        price = min(price, limit) if buy else max(price, limit)
        self.used_volume[order.symbol] = self.used_volume.get(order.symbol, 0.0) + quantity
        return [self._fill(work, quantity, price, DAILY_BAR_MODEL, bar.get("ts"))]

    def _walk_book(self, work: WorkingOrder) -> list[Fill]:
        order = work.order
        replay = self.replays[order.symbol]
        book = replay.snapshot(self.clock_ns)
        if book is None:
            return []
        buy = order.side is Side.BUY
        prices, sizes = book.side(buy)
        limit = float(order.limit_price)
        ts = pd.Timestamp(self.clock_ns, unit="ns").to_pydatetime(warn=False)
        fills = []
        for price, size in zip(prices, sizes):
            if work.remaining <= 0 or (buy and price > limit) or (not buy and price < limit):
                break
            take = min(work.remaining, int(size))
            if take > 0:
                fills.append(self._fill(work, take, float(price), BOOK_MODEL, ts))
        if work.remaining > 0:
            own_px, own_qty = book.side(not buy)  # a resting buy joins the bids, a sell the asks
            same = np.isclose(own_px, limit, rtol=0.0, atol=1e-9)
            work.queue_ahead = float(np.sum(own_qty[same]))
        return fills

    def match_prints(self, symbol: str, ts_ns, open_, high, low, volume, basis: str = RECORDED_BARS) -> list[Fill]:
        """Futures mode: fill working orders of ``symbol`` against prints stamped ``ts_ns`` (time-ordered
        arrays; a bar is stamped at its end). See the module docstring for the rules."""
        works = [w for w in self.working.values()
                 if w.order.symbol == symbol and w.order.is_future and w.status.is_working]
        if not works:
            return []
        ts_ns = np.asarray(ts_ns, dtype=np.int64)
        open_, high, low, volume = (np.asarray(a, dtype=float) for a in (open_, high, low, volume))
        fills: list[Fill] = []
        for k in range(len(ts_ns)):
            room = int(self.params.participation_cap * volume[k]) if volume[k] > 0 else 0
            for work in works:
                if room <= 0 or ts_ns[k] <= work.submitted_ns or not work.status.is_working:
                    continue
                price = futures_print_price(work.order.side is Side.BUY, float(work.order.limit_price),
                                            open_[k], high[k], low[k])
                if price is None:
                    continue
                take = min(work.remaining, room)
                room -= take
                ts = pd.Timestamp(int(ts_ns[k]), unit="ns", tz="UTC").tz_convert("Asia/Taipei").tz_localize(None)
                fills.append(self._fill(work, take, price, basis, ts.to_pydatetime()))
        return fills

    def advance(self, until_ns: int) -> list[Fill]:
        """Book mode: replay trades up to ``until_ns`` against resting orders (queue first, then us)."""
        fills = []
        for work in self.working.values():
            replay = self.replays.get(work.order.symbol)
            if replay is None or not work.status.is_working:
                continue
            lo = int(np.searchsorted(replay.trade_ts, self.clock_ns, side="right"))
            hi = int(np.searchsorted(replay.trade_ts, until_ns, side="right"))
            limit = float(work.order.limit_price)
            buy = work.order.side is Side.BUY
            makers = replay.trade_buyer_is_maker
            for k in range(lo, hi):
                px, qty = replay.trade_px[k], replay.trade_qty[k]
                if (buy and px > limit) or (not buy and px < limit):
                    continue
                if makers is not None and bool(makers[k]) != buy:
                    continue  # an aggressive order on our own side never trades with us
                if px == limit and work.queue_ahead > 0:
                    used = min(qty, work.queue_ahead)
                    work.queue_ahead -= used
                    qty -= used
                take = min(work.remaining, int(qty))
                if take > 0:
                    ts = pd.Timestamp(int(replay.trade_ts[k]), unit="ns").to_pydatetime(warn=False)
                    fills.append(self._fill(work, take, limit, BOOK_MODEL, ts))
                if work.remaining == 0:
                    break
        self.clock_ns = until_ns
        return fills


def futures_print_price(buy: bool, limit: float, open_: float, high: float, low: float) -> float | None:
    """The fill price of a working futures limit order against one print (bar), or None (see the module)."""
    if not np.isfinite(open_):
        return None
    if buy:
        if open_ <= limit:
            return open_
        return limit if low < limit else None
    if open_ >= limit:
        return open_
    return limit if high > limit else None


def daily_fill_slippage(open_: float, high: float, low: float, volume: float, quantity: float, is_etf: bool,
                        impact_coef: float) -> float:
    """Realised-slippage estimate of a daily-bar fill (see the module docstring), fraction of the open."""
    half_tick = 0.5 * float(tick_size(open_, is_etf)) / open_
    sigma = math.log(high / low) / (2 * math.sqrt(math.log(2))) if high > low > 0 else 0.0
    return half_tick + impact_coef * sigma * math.sqrt(quantity / volume)
