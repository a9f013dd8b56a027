"""Instruments: what one unit of an order is and which exchange rules judge it (SPEC §9).

Three asset classes. Stocks and ETFs trade on TWSE in 1,000-share board lots on the stock or
ETF tick ladder (:mod:`jgod_plugins.tw_market.rules`). Futures trade on TAIFEX in whole contracts:
one contract of TX is worth NT$200 per index point, of MTX NT$50; the tick is 1 index point;
the daily limit is ±10 % of the reference (the previous settlement price), rounded inward onto
the tick; the futures transaction tax is 0.002 % of the contract value on each side
(:func:`jgod_plugins.tw_market.rules.futures_tax`). Broker fees on futures are per contract and
belong to the broker's params (they differ by broker).

Quantities are in *units*: shares for stocks and ETFs, contracts for futures; ``lot_size`` is
the units of one tradable lot (1,000 or 1) and ``multiplier`` the NT$ value of one unit per
1.0 of price (1 or the contract multiplier), so ``price × quantity × multiplier`` is NT$.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from jgod_core.errors import JGodError
from jgod_core.venue import AssetClass  # noqa: F401 - the kernel's value type, re-exported here
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES, PRICE_LIMIT, limit_down, limit_up, round_to_tick, tick_size


class UnknownContractError(JGodError):
    """A futures order names a symbol that is not a known TAIFEX contract."""


@dataclass(frozen=True)
class FuturesContract:
    """One TAIFEX futures product (its specification, not a dated series)."""

    root: str
    description: str
    multiplier: int  # NT$ per index point
    tick: float = 1.0  # index points
    price_limit: float = PRICE_LIMIT
    source: str = "TAIFEX contract specifications (https://www.taifex.com.tw); SPEC §9"

    def round_to_tick(self, price: float, mode: str = "nearest") -> float:
        units = price / self.tick
        n = {"down": math.floor(units + 1e-9), "up": math.ceil(units - 1e-9)}.get(mode)
        return (n if n is not None else math.floor(units + 0.5)) * self.tick

    def is_on_tick(self, price: float) -> bool:
        return abs(self.round_to_tick(price) - price) <= 1e-9

    def limit_up(self, reference: float) -> float:
        return self.round_to_tick(reference * (1 + self.price_limit), "down")

    def limit_down(self, reference: float) -> float:
        return self.round_to_tick(reference * (1 - self.price_limit), "up")


TAIFEX_FUTURES: dict[str, FuturesContract] = {
    "TX": FuturesContract("TX", "TAIEX futures (臺股期貨)", 200),
    "MTX": FuturesContract("MTX", "Mini-TAIEX futures (小型臺指期貨)", 50),
}
# Other spellings of the same products: Shioaji/TAIFEX commodity codes (TXF, MXF) and dated
# series such as TXF202606 or TXFF6 resolve to the product.
_ALIASES = {"TXF": "TX", "MXF": "MTX", "MTX": "MTX", "TX": "TX"}
_SERIES = re.compile(r"^(TXF|MXF|MTX|TX)(?:[A-L]\d|\d{6}|R1|R2)?$")


def futures_contract(symbol: str) -> FuturesContract | None:
    """The TAIFEX product ``symbol`` trades (TX, MTX, TXF, MXF, TXF202606, TXFF6 …), else None."""
    match = _SERIES.match(str(symbol).strip().upper())
    return TAIFEX_FUTURES[_ALIASES[match.group(1)]] if match else None


def require_contract(symbol: str) -> FuturesContract:
    contract = futures_contract(symbol)
    if contract is None:
        raise UnknownContractError(f"{symbol!r} is not a known TAIFEX futures contract "
                                   f"(known: {', '.join(sorted(TAIFEX_FUTURES))})")
    return contract


def asset_class_of(symbol: str, is_etf: bool = False) -> AssetClass:
    """The asset class a bare symbol implies: a TAIFEX futures code, else an ETF or a stock."""
    if futures_contract(symbol) is not None:
        return AssetClass.FUTURE
    return AssetClass.ETF if is_etf else AssetClass.STOCK


# -- order-level rules: every rule plugin asks these, so stocks and futures are judged alike ------


def lot_size(order: Any) -> int:
    """Units in one tradable lot: 1,000 shares, or 1 contract."""
    return 1 if order.asset is AssetClass.FUTURE else BOARD_LOT_SHARES


def multiplier(order: Any) -> int:
    """NT$ per unit per 1.0 of price: 1 for shares, the contract multiplier for futures."""
    return require_contract(order.symbol).multiplier if order.asset is AssetClass.FUTURE else 1


def tick_at(order: Any, price: float, as_of=None) -> float:
    if order.asset is AssetClass.FUTURE:
        return require_contract(order.symbol).tick
    return float(tick_size(price, order.is_etf, as_of=as_of))


def on_tick(order: Any, price: float, as_of=None) -> bool:
    if order.asset is AssetClass.FUTURE:
        return require_contract(order.symbol).is_on_tick(price)
    from jgod_plugins.tw_market.rules import is_on_tick

    return bool(is_on_tick(price, order.is_etf, as_of=as_of))


def round_price(order: Any, price: float, mode: str = "nearest", as_of=None) -> float:
    if order.asset is AssetClass.FUTURE:
        return require_contract(order.symbol).round_to_tick(price, mode)
    return float(round_to_tick(price, order.is_etf, mode, as_of=as_of))


def price_band(order: Any, reference: float, as_of=None) -> tuple[float, float]:
    """(limit down, limit up) around ``reference``, rounded inward onto the instrument's tick."""
    if order.asset is AssetClass.FUTURE:
        contract = require_contract(order.symbol)
        return contract.limit_down(reference), contract.limit_up(reference)
    return (float(limit_down(reference, order.is_etf, as_of=as_of)),
            float(limit_up(reference, order.is_etf, as_of=as_of)))


def floor_to_lots(order: Any, units: float) -> int:
    """Non-negative ``units`` rounded down to whole lots of ``order``'s instrument."""
    size = lot_size(order)
    return max(0, int(units // size)) * size
