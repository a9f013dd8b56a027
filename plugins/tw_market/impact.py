"""Cost models shared by the risk gate and the paper broker.

Two ways to predict what an order will cost:

- **Book walk** (when a 5-level book is recorded): the order consumes the opposite side level by
  level; the average price against the mid is the predicted slippage. What the five levels cannot
  hold is reported as unfilled, never assumed.
- **Daily-bar model** (no book; an *estimate*, labelled as such): half the quoted spread, taken as
  one tick (the typical TWSE large-cap spread), plus square-root impact
  ``impact_coef × σ_daily × sqrt(Q / ADV)`` (Almgren, Thum, Hauptmann & Li 2005, "Direct
  estimation of equity market impact"), with σ_daily the standard deviation of daily close-to-close
  returns and ADV the mean daily volume in shares, both over ``window`` trading days ending at the
  decision date (no look-ahead).

Cost per tick (fragility) = Σ traded volume / Σ |price change in ticks| over a window. From daily
bars the intraday path is unknown; its shortest length through the day's open, high, low and
close is used (``min(|O−H|+|H−L|+|L−C|, |O−L|+|L−H|+|H−C|)``), so the figure is an upper bound on
the true cost per tick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from jgod_core.risk.market_view import Book5  # noqa: F401 - the kernel's book snapshot, re-exported here
from jgod_plugins.tw_market.rules import tick_size

DAILY_BAR_MODEL = "daily_bar_estimate"
BOOK_MODEL = "book"


@njit(cache=True)
def _walk(prices, quantities, order_qty):
    remaining = order_qty
    cost = 0.0
    for k in range(prices.shape[0]):
        if remaining <= 0.0:
            break
        take = min(remaining, quantities[k])
        cost += take * prices[k]
        remaining -= take
    filled = order_qty - remaining
    return filled, (cost / filled if filled > 0 else np.nan)


@njit(cache=True)
def _walk_many(prices, quantities, order_qty):
    m = prices.shape[0]
    filled = np.empty(m)
    average = np.empty(m)
    for i in range(m):
        filled[i], average[i] = _walk(prices[i], quantities[i], order_qty)
    return filled, average


@dataclass(frozen=True)
class BookWalk:
    """Result of walking one order through a book."""

    filled: float
    average_price: float
    touch: float  # best opposite price
    mid: float
    slippage: float  # side-signed (average − touch) / touch: the cost of walking past the touch
    levels: int  # levels touched
    side_sign: float = 1.0

    @property
    def slippage_vs_mid(self) -> float:
        """Side-signed (average − mid) / mid: half the spread plus the walk."""
        return self.side_sign * (self.average_price - self.mid) / self.mid


def walk_book(book: Book5, quantity: float, buy: bool) -> BookWalk:
    """Walk ``quantity`` through the opposite side of ``book``."""
    prices, quantities = book.side(buy)
    prices = np.asarray(prices, dtype=float)
    quantities = np.asarray(quantities, dtype=float)
    filled, average = _walk(prices, quantities, float(quantity))
    touch = float(prices[0])
    sign = 1.0 if buy else -1.0
    slippage = sign * (average - touch) / touch if filled > 0 else float("nan")
    levels = int(np.searchsorted(np.cumsum(quantities), quantity - 1e-12) + 1) if filled > 0 else 0
    return BookWalk(float(filled), float(average), touch, book.mid, float(slippage), min(levels, len(prices)), sign)


def walk_books(prices: np.ndarray, quantities: np.ndarray, quantity: float) -> tuple[np.ndarray, np.ndarray]:
    """Walk the same quantity through many snapshots (rows). Returns ``(filled, average_price)``."""
    return _walk_many(np.ascontiguousarray(prices, dtype=float), np.ascontiguousarray(quantities, dtype=float),
                      float(quantity))


def max_quantity_within(book: Book5, buy: bool, max_slippage: float, step: float) -> float:
    """Largest multiple of ``step`` whose walk slippage (vs the touch) stays within ``max_slippage``.

    Bounded by the depth of the five levels.
    """
    prices, quantities = book.side(buy)
    prices = np.asarray(prices, float)
    touch = float(prices[0])
    sign = 1.0 if buy else -1.0
    limit_avg = touch * (1 + sign * max_slippage)  # the worst average price allowed
    best = 0.0
    cum_q = 0.0
    cum_cost = 0.0
    for price, qty in zip(prices, np.asarray(quantities, float)):
        if sign * (price - limit_avg) <= 0:
            cum_q += qty
            cum_cost += qty * price
            best = cum_q
            continue
        # (cum_cost + x·price) / (cum_q + x) = limit_avg  →  x = (limit_avg·cum_q − cum_cost) / (price − limit_avg)
        x = (limit_avg * cum_q - cum_cost) / (price - limit_avg)
        best = cum_q + max(0.0, min(qty, x))
        break
    return float(np.floor(best / step + 1e-9) * step)


# -- daily-bar model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCostEstimate:
    """Predicted slippage of an order from daily bars (an estimate, see the module docstring)."""

    slippage: float  # fraction of the arrival price
    half_spread: float
    impact: float
    sigma_daily: float
    adv_shares: float
    participation: float
    model: str = DAILY_BAR_MODEL


def daily_bar_slippage(
    quantity: float,
    price: float,
    closes: np.ndarray,
    volumes: np.ndarray,
    is_etf: bool = False,
    impact_coef: float = 0.5,
) -> DailyCostEstimate:
    """Predicted slippage fraction of ``quantity`` shares at ``price`` from trailing daily bars.

    ``closes`` and ``volumes`` are the trailing window ending at the decision date; NaNs
    (halted days) are skipped. Raises ``ValueError`` when fewer than 2 valid closes remain.
    """
    closes = np.asarray(closes, dtype=float)
    volumes = np.asarray(volumes, dtype=float)
    valid = closes[~np.isnan(closes)]
    if valid.size < 3:
        raise ValueError("fewer than 3 valid daily closes in the window")
    returns = np.diff(np.log(valid))
    sigma = float(np.std(returns, ddof=1))
    adv = float(np.nanmean(volumes[volumes > 0])) if np.any(volumes > 0) else float("nan")
    if not np.isfinite(adv) or adv <= 0:
        raise ValueError("no traded volume in the window")
    half_spread = 0.5 * float(tick_size(price, is_etf)) / price
    participation = float(quantity) / adv
    impact = impact_coef * sigma * np.sqrt(participation)
    return DailyCostEstimate(half_spread + impact, half_spread, float(impact), sigma, adv, participation)


def daily_path_ticks(open_, high, low, close, tick) -> np.ndarray:
    """Shortest intraday path length in ticks through O, H, L, C (elementwise)."""
    via_high = np.abs(open_ - high) + (high - low) + np.abs(low - close)
    via_low = np.abs(open_ - low) + (high - low) + np.abs(high - close)
    return np.minimum(via_high, via_low) / tick


def cost_per_tick(volumes: np.ndarray, ticks_moved: np.ndarray) -> float:
    """Σ volume / Σ |price change in ticks| (NaN rows skipped); ``inf`` when the price never moved."""
    volumes = np.asarray(volumes, dtype=float)
    ticks_moved = np.asarray(ticks_moved, dtype=float)
    ok = ~(np.isnan(volumes) | np.isnan(ticks_moved))
    moved = float(np.sum(np.abs(ticks_moved[ok])))
    traded = float(np.sum(volumes[ok]))
    return float("inf") if moved == 0 else traded / moved
