"""What the risk rules and routers may see of the market at a decision time (point in time).

:class:`PanelMarketView` exposes a :class:`~jgod_core.data.panel.Panel` cut at one date position:
trailing daily bars and market series end at ``asof`` inclusive and never reach past it.
Recorded 5-level books (:class:`Book5`, a venue-neutral value type) can be attached per symbol (the
latest snapshot at or before now).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Protocol

import numpy as np

from jgod_core.data.panel import Panel


@dataclass(frozen=True)
class Book5:
    """A 5-level order book snapshot: prices ascending away from the touch on each side."""

    bid_px: np.ndarray
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray
    ts_ns: int = 0

    @property
    def mid(self) -> float:
        """Mid price of the best bid and ask."""
        return 0.5 * (float(self.bid_px[0]) + float(self.ask_px[0]))

    def side(self, buy: bool) -> tuple[np.ndarray, np.ndarray]:
        """The levels a buy (asks) or a sell (bids) consumes."""
        return (self.ask_px, self.ask_qty) if buy else (self.bid_px, self.bid_qty)


class MarketView(Protocol):
    """Point-in-time market access for rules and routers."""

    def bars(self, symbol: str, window: int) -> dict[str, np.ndarray] | None:
        """Trailing ``window`` daily bars (open, high, low, close, volume) ending at the decision date."""

    def series(self, name: str, window: int) -> np.ndarray | None:
        """Trailing ``window`` values of a market series ending at the decision date, or None."""

    def why_missing(self, name: str) -> str:
        """Why a series or symbol is absent."""

    def book(self, symbol: str) -> Book5 | None:
        """The latest recorded 5-level book of ``symbol``, or None."""


@dataclass(frozen=True)
class PanelMarketView:
    """A panel seen as of date position ``asof`` (inclusive)."""

    panel: Panel
    asof: int
    books: Mapping[str, Book5] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {s: i for i, s in enumerate(self.panel.symbols)})

    def bars(self, symbol: str, window: int) -> dict[str, np.ndarray] | None:
        row = self._row.get(symbol)  # type: ignore[attr-defined]
        if row is None:
            return None
        lo = max(0, self.asof + 1 - window)
        return {name: self.panel.fields[name][row, lo:self.asof + 1]
                for name in ("open", "high", "low", "close", "volume") if name in self.panel.fields}

    def series(self, name: str, window: int) -> np.ndarray | None:
        values = self.panel.series.get(name)
        if values is None:
            return None
        lo = max(0, self.asof + 1 - window)
        return values[lo:self.asof + 1]

    def why_missing(self, name: str) -> str:
        return self.panel.why_missing(name)

    def book(self, symbol: str) -> Book5 | None:
        return self.books.get(symbol)

    @property
    def date(self) -> np.datetime64:
        return self.panel.dates[self.asof]


@dataclass(frozen=True)
class StaticMarketView:
    """A market view from plain arrays (notebooks, tests, replays): everything given is 'as of now'."""

    daily: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    market_series: Mapping[str, np.ndarray] = field(default_factory=dict)
    books: Mapping[str, Book5] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)

    def bars(self, symbol: str, window: int) -> dict[str, np.ndarray] | None:
        bars = self.daily.get(symbol)
        return None if bars is None else {k: np.asarray(v, float)[-window:] for k, v in bars.items()}

    def series(self, name: str, window: int) -> np.ndarray | None:
        values = self.market_series.get(name)
        return None if values is None else np.asarray(values, float)[-window:]

    def why_missing(self, name: str) -> str:
        return self.missing.get(name, f"{name!r} is not loaded")

    def book(self, symbol: str) -> Book5 | None:
        return self.books.get(symbol)
