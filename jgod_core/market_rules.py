"""Taiwan market rules (SPEC §9): tick ladder, ±10 % price limits, board lots, costs.

Vectorised over numpy arrays; scalars work too. Money is NT$; costs round down to whole NT$
as brokers bill them (commission floor NT$20).
"""

from __future__ import annotations

import numpy as np

BOARD_LOT_SHARES = 1000
PRICE_LIMIT = 0.10
COMMISSION_RATE = 0.001425
MIN_COMMISSION_TWD = 20
SELL_TAX_STOCK = 0.003
SELL_TAX_DAY_TRADE = 0.0015
SELL_TAX_ETF = 0.001

# Upper bounds (exclusive) and tick sizes of the TWSE stock ladder.
STOCK_LADDER_BOUNDS = np.array([10.0, 50.0, 100.0, 500.0, 1000.0, np.inf])
STOCK_LADDER_TICKS = np.array([0.01, 0.05, 0.1, 0.5, 1.0, 5.0])
# ETFs: 0.01 below 50, 0.05 from 50.
ETF_LADDER_BOUNDS = np.array([50.0, np.inf])
ETF_LADDER_TICKS = np.array([0.01, 0.05])


def tick_size(price, is_etf=False):
    """Tick size at ``price`` (the tick that applies to prices in the band containing it)."""
    price = np.asarray(price, dtype=float)
    etf = np.broadcast_to(np.asarray(is_etf, dtype=bool), price.shape)
    stock_tick = STOCK_LADDER_TICKS[np.searchsorted(STOCK_LADDER_BOUNDS, price, side="right")]
    etf_tick = ETF_LADDER_TICKS[np.searchsorted(ETF_LADDER_BOUNDS, price, side="right")]
    out = np.where(etf, etf_tick, stock_tick)
    return out if out.ndim else float(out)


def _round(price, is_etf, mode: str):
    price = np.asarray(price, dtype=float)
    tick = np.asarray(tick_size(price, is_etf))
    units = price / tick
    # 1e-9 guards against 12.35/0.05 = 246.99999999999997
    if mode == "down":
        n = np.floor(units + 1e-9)
    elif mode == "up":
        n = np.ceil(units - 1e-9)
    else:
        n = np.floor(units + 0.5)
    out = np.round(n * tick, 2)
    return out if out.ndim else float(out)


def round_to_tick(price, is_etf=False, mode: str = "nearest"):
    """Round a price onto the ladder (``mode``: nearest, down, up)."""
    return _round(price, is_etf, mode)


def is_on_tick(price, is_etf=False):
    """True where ``price`` lies exactly on the ladder."""
    price = np.asarray(price, dtype=float)
    out = np.isclose(_round(price, is_etf, "nearest"), price, rtol=0, atol=1e-9)
    return out if out.ndim else bool(out)


def limit_up(reference_price, is_etf=False):
    """Highest price allowed: +10 % of the reference, rounded down onto the ladder."""
    return _round(np.asarray(reference_price, dtype=float) * (1 + PRICE_LIMIT), is_etf, "down")


def limit_down(reference_price, is_etf=False):
    """Lowest price allowed: −10 % of the reference, rounded up onto the ladder."""
    return _round(np.asarray(reference_price, dtype=float) * (1 - PRICE_LIMIT), is_etf, "up")


def commission(notional, rate=COMMISSION_RATE, discount=1.0, minimum=MIN_COMMISSION_TWD):
    """Broker commission in whole NT$: floor(notional × rate × discount), at least ``minimum``.

    Zero notional pays nothing.
    """
    notional = np.asarray(notional, dtype=float)
    fee = np.floor(notional * rate * discount + 1e-9)
    out = np.where(notional > 0, np.maximum(fee, minimum), 0.0)
    return out if out.ndim else float(out)


def sell_tax(notional, is_etf=False, day_trade=False):
    """Securities transaction tax on a sell, in whole NT$ (floor)."""
    notional = np.asarray(notional, dtype=float)
    rate = np.where(np.asarray(is_etf, dtype=bool), SELL_TAX_ETF, SELL_TAX_DAY_TRADE if day_trade else SELL_TAX_STOCK)
    out = np.floor(notional * rate + 1e-9)
    return out if out.ndim else float(out)
