"""Taiwan market rules (SPEC §9): tick ladder, ±10 % price limits, board lots, costs.

Vectorised over numpy arrays; scalars work too. Money is NT$; costs round down to whole NT$
as brokers bill them (commission floor NT$20); the futures transaction tax rounds to the
nearest NT$.

The tick ladders are versioned data (:data:`STOCK_LADDERS`, :data:`ETF_LADDERS`): each version
has the date it took effect and its source. Every ladder function takes ``as_of`` (a date;
default: the latest version) and uses the version in force on that date. A new exchange rule
is one more :class:`TickLadder` row with its ``effective_from`` date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import numpy as np

from jgod_core.errors import JGodError

BOARD_LOT_SHARES = 1000
PRICE_LIMIT = 0.10
COMMISSION_RATE = 0.001425
MIN_COMMISSION_TWD = 20
SELL_TAX_STOCK = 0.003
SELL_TAX_DAY_TRADE = 0.0015
SELL_TAX_ETF = 0.001

FUTURES_TAX_RATE = 0.00002  # TAIFEX stock-index futures: 0.002 % of the contract value, each side


class MarketRulesError(JGodError):
    """A market rule was asked about a date no recorded rule version covers."""


@dataclass(frozen=True)
class TickLadder:
    """One version of a tick ladder: upper bounds (exclusive) of its price bands and their ticks.

    ``effective_from`` is the first date it applies (None: in force before any date the engine
    covers; its start date is not recorded here). ``source`` names the rule text.
    """

    effective_from: dt.date | None
    bounds: tuple[float, ...]
    ticks: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        if len(self.bounds) != len(self.ticks) or self.bounds[-1] != np.inf or list(self.bounds) != sorted(self.bounds):
            raise ValueError(f"tick ladder from {self.effective_from}: bounds must rise to inf, one tick per band")


STOCK_LADDERS: tuple[TickLadder, ...] = (
    TickLadder(None, (10.0, 50.0, 100.0, 500.0, 1000.0, np.inf), (0.01, 0.05, 0.1, 0.5, 1.0, 5.0),
               "TWSE Operating Rules, Article 62 (tick sizes of listed stocks), as in force in 2024-2026; "
               "SPEC §9. Start date not recorded: earlier versions were not checked"),
)
ETF_LADDERS: tuple[TickLadder, ...] = (
    TickLadder(None, (50.0, np.inf), (0.01, 0.05),
               "TWSE Regulations Governing Trading of Beneficiary Certificates, Article 6 (ETF and REIT "
               "certificates: NT$0.01 below NT$50, NT$0.05 from NT$50); text verified in the version dated "
               "2006-01-13 (twse-regulation.twse.com.tw, FLCODE=FL007114), still in force"),
)
# The latest versions, as flat arrays (numba kernels and older callers read these).
STOCK_LADDER_BOUNDS = np.array(STOCK_LADDERS[-1].bounds)
STOCK_LADDER_TICKS = np.array(STOCK_LADDERS[-1].ticks)
ETF_LADDER_BOUNDS = np.array(ETF_LADDERS[-1].bounds)
ETF_LADDER_TICKS = np.array(ETF_LADDERS[-1].ticks)


def ladder_in_force(versions: tuple[TickLadder, ...], as_of: dt.date | dt.datetime | None = None) -> TickLadder:
    """The version of ``versions`` (ordered by ``effective_from``) in force on ``as_of`` (None: latest)."""
    if as_of is None:
        return versions[-1]
    day = as_of.date() if isinstance(as_of, dt.datetime) else as_of
    starts = [v.effective_from or dt.date.min for v in versions]
    k = bisect.bisect_right(starts, day) - 1
    if k < 0:
        raise MarketRulesError(f"no tick ladder recorded for {day}: the first version takes effect {starts[0]}")
    return versions[k]


@dataclass(frozen=True)
class PriceLimit:
    """One version of the TWSE daily price limit: ± ``fraction`` of the reference price from ``effective_from``."""

    effective_from: dt.date | None
    fraction: float
    source: str


PRICE_LIMITS: tuple[PriceLimit, ...] = (
    PriceLimit(None, 0.07, "TWSE Operating Rules, Article 63, before the 2015-06-01 amendment: ±7 % of the "
                           "reference price. Start date not recorded. The real sample agrees: from 2015-01-05 to "
                           "2015-05-29 no high or low of the 51 stocks is more than 7.0 % from the previous close"),
    PriceLimit(dt.date(2015, 6, 1), PRICE_LIMIT, "TWSE announcement of the widening of the daily price limit of "
                                                 "listed stocks from 7 % to 10 %, effective 2015-06-01 (Operating "
                                                 "Rules, Article 63); the real sample reaches ±10 % from that day"),
)


def price_limit(as_of=None) -> float:
    """The daily limit (fraction of the reference) in force on ``as_of`` (None: the latest)."""
    return ladder_in_force(PRICE_LIMITS, as_of).fraction


def price_limits_on(dates: np.ndarray) -> np.ndarray:
    """The daily limit in force on each of ``dates`` (``datetime64[D]``), as a float array
    (the vectorised form of :func:`price_limit`)."""
    starts = np.array([v.effective_from or dt.date.min for v in PRICE_LIMITS], dtype="datetime64[D]")
    version = np.searchsorted(starts, np.asarray(dates, dtype="datetime64[D]"), side="right") - 1
    if (version < 0).any():
        raise MarketRulesError(f"no price limit recorded before {starts[0]}")
    return np.array([v.fraction for v in PRICE_LIMITS])[version]


def tick_size(price, is_etf=False, as_of=None):
    """Tick size at ``price`` (the tick that applies to prices in the band containing it) on ``as_of``."""
    price = np.asarray(price, dtype=float)
    etf = np.broadcast_to(np.asarray(is_etf, dtype=bool), price.shape)
    stock, etf_ladder = ladder_in_force(STOCK_LADDERS, as_of), ladder_in_force(ETF_LADDERS, as_of)
    stock_tick = np.asarray(stock.ticks)[np.searchsorted(stock.bounds, price, side="right")]
    etf_tick = np.asarray(etf_ladder.ticks)[np.searchsorted(etf_ladder.bounds, price, side="right")]
    out = np.where(etf, etf_tick, stock_tick)
    return out if out.ndim else float(out)


def _round(price, is_etf, mode: str, as_of=None):
    price = np.asarray(price, dtype=float)
    tick = np.asarray(tick_size(price, is_etf, as_of))
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


def round_to_tick(price, is_etf=False, mode: str = "nearest", as_of=None):
    """Round a price onto the ladder in force on ``as_of`` (``mode``: nearest, down, up)."""
    return _round(price, is_etf, mode, as_of)


def is_on_tick(price, is_etf=False, as_of=None):
    """True where ``price`` lies exactly on the ladder in force on ``as_of``."""
    price = np.asarray(price, dtype=float)
    out = np.isclose(_round(price, is_etf, "nearest", as_of), price, rtol=0, atol=1e-9)
    return out if out.ndim else bool(out)


def limit_up(reference_price, is_etf=False, as_of=None):
    """Highest price allowed on ``as_of``: +10 % (±7 % before 2015-06-01) of the reference, rounded down onto
    the ladder."""
    return _round(np.asarray(reference_price, dtype=float) * (1 + price_limit(as_of)), is_etf, "down", as_of)


def limit_down(reference_price, is_etf=False, as_of=None):
    """Lowest price allowed on ``as_of``: −10 % (−7 % before 2015-06-01) of the reference, rounded up onto the
    ladder."""
    return _round(np.asarray(reference_price, dtype=float) * (1 - price_limit(as_of)), is_etf, "up", as_of)


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


def futures_tax(contract_value):
    """Futures transaction tax in whole NT$ on one side of a trade: ``contract_value`` (price ×
    multiplier × contracts) × 0.002 %, rounded half up to the NT$ (the TAIFEX brokers' convention)."""
    value = np.asarray(contract_value, dtype=float)
    out = np.floor(value * FUTURES_TAX_RATE + 0.5 + 1e-9)
    return out if out.ndim else float(out)
