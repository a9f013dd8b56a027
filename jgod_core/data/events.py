"""Market events on one clock: every event carries its exchange time and its receive time.

Two shapes of the same data:

- :class:`MarketEvent`, one event as a small immutable object (feeds, the sequencer, tests);
- :class:`EventBatch`, many events as columns (structure of arrays) for the batch kernel.
  Symbols are integer positions in the processor's symbol list.

Times are integer nanoseconds since the Unix epoch (UTC). ``exchange_ns`` is the time the
exchange stamped (the one clock every feed is aligned on); ``receive_ns`` is the local time
the event arrived. An event's ``kind`` is one of :data:`TRADE`, :data:`BOOK`, :data:`BAR`, :data:`INDEX`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

# -- event kinds (int8 in event batches) --------------------------------------------------------
TRADE = 1  # one print: price, size, aggressor side (+1 buy, -1 sell, 0 unknown)
BOOK = 2  # a 5-level book: 5 bid prices, 5 bid sizes, 5 ask prices, 5 ask sizes
BAR = 3  # a completed bar, stamped at its END: open, high, low, close (price), volume (size)
INDEX = 4  # a value of an index or reference price (e.g. TAIEX, S&P futures): price only

KIND_NAMES = {TRADE: "trade", BOOK: "book", BAR: "bar", INDEX: "index"}
BOOK_LEVELS = 5
BOOK_WIDTH = 4 * BOOK_LEVELS  # bid px, bid qty, ask px, ask qty (level 1 first in each block)

NAN = float("nan")


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One market event from one feed.

    ``seq`` is the feed's sequence number for this symbol (−1 when the feed has none);
    ``side`` is the aggressor of a trade (+1 buy, −1 sell, 0 unknown); a ``BAR`` carries its
    close in ``price`` and its volume in ``size``; a ``BOOK`` carries ``book`` (20 floats).
    """

    source: str
    symbol: str
    kind: int
    exchange_ns: int
    receive_ns: int
    seq: int = -1
    price: float = NAN
    size: float = 0.0
    side: int = 0
    open: float = NAN
    high: float = NAN
    low: float = NAN
    book: tuple[float, ...] | None = None

    @property
    def kind_name(self) -> str:
        """``trade``, ``book``, ``bar`` or ``index`` (the number when unknown)."""
        return KIND_NAMES.get(self.kind, str(self.kind))

    def sort_key(self) -> tuple[int, int, str, int]:
        """Order on the one clock: exchange time, then receive time, source and sequence."""
        return (self.exchange_ns, self.receive_ns, self.source, self.seq)


@dataclass(frozen=True)
class MarketSnapshot:
    """The market-level view of SPEC §6 at one instant (NaN where no feed provides it)."""

    timestamp_ns: int
    index_price: float = NAN
    futures_price: float = NAN
    sp_futures_price: float = NAN


@dataclass
class EventBatch:
    """Events as columns, in processing order. ``symbol`` holds positions in a symbol list."""

    kind: np.ndarray  # int8
    symbol: np.ndarray  # int32
    exchange_ns: np.ndarray  # int64
    receive_ns: np.ndarray  # int64
    price: np.ndarray  # float64
    size: np.ndarray  # float64
    side: np.ndarray  # int8
    open: np.ndarray  # float64
    high: np.ndarray  # float64
    low: np.ndarray  # float64
    book: np.ndarray  # float64 (n, 20); NaN rows for non-book events
    seq: np.ndarray = field(default=None)  # int64, −1 when unknown

    def __post_init__(self) -> None:
        n = len(self.kind)
        if self.seq is None:
            self.seq = np.full(n, -1, dtype=np.int64)
        for name in ("symbol", "exchange_ns", "receive_ns", "price", "size", "side", "open", "high", "low", "seq"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"EventBatch column {name!r} has {len(getattr(self, name))} rows, expected {n}")
        if self.book.shape != (n, BOOK_WIDTH):
            raise ValueError(f"EventBatch book has shape {self.book.shape}, expected {(n, BOOK_WIDTH)}")

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def nbytes(self) -> int:
        """Bytes held by the batch's numeric columns."""
        return sum(getattr(self, f).nbytes for f in ("kind", "symbol", "exchange_ns", "price", "size", "side",
                                                        "open", "high", "low", "book"))

    @classmethod
    def empty(cls, n: int) -> "EventBatch":
        """``n`` rows, every price NaN (to be filled column by column)."""
        return cls(
            kind=np.zeros(n, np.int8), symbol=np.zeros(n, np.int32), exchange_ns=np.zeros(n, np.int64),
            receive_ns=np.zeros(n, np.int64), price=np.full(n, np.nan), size=np.zeros(n), side=np.zeros(n, np.int8),
            open=np.full(n, np.nan), high=np.full(n, np.nan), low=np.full(n, np.nan),
            book=np.full((n, BOOK_WIDTH), np.nan), seq=np.full(n, -1, np.int64),
        )

    @classmethod
    def from_events(cls, events: Sequence[MarketEvent], symbol_index: dict[str, int]) -> "EventBatch":
        """Columns of ``events`` (in the given order); symbols must be in ``symbol_index``."""
        batch = cls.empty(len(events))
        for i, ev in enumerate(events):
            batch.kind[i] = ev.kind
            batch.symbol[i] = symbol_index[ev.symbol]
            batch.exchange_ns[i] = ev.exchange_ns
            batch.receive_ns[i] = ev.receive_ns
            batch.price[i] = ev.price
            batch.size[i] = ev.size
            batch.side[i] = ev.side
            batch.open[i] = ev.open
            batch.high[i] = ev.high
            batch.low[i] = ev.low
            batch.seq[i] = ev.seq
            if ev.book is not None:
                batch.book[i] = ev.book
        return batch

    def take(self, index: np.ndarray | slice) -> "EventBatch":
        """The rows selected by ``index`` (always a copy, also for a slice)."""
        return EventBatch(*(np.array(getattr(self, f)[index], order="C", copy=True) for f in _COLUMNS))

    @classmethod
    def concat(cls, batches: Iterable["EventBatch"]) -> "EventBatch":
        """The batches one after another, in the order given."""
        parts = list(batches)
        if not parts:
            return cls.empty(0)
        return cls(*(np.concatenate([getattr(b, f) for b in parts]) for f in _COLUMNS))

    def sorted_by_exchange_time(self) -> "EventBatch":
        """Rows ordered on the one clock (stable: ties keep their order)."""
        return self.take(np.argsort(self.exchange_ns, kind="stable"))


_COLUMNS = ("kind", "symbol", "exchange_ns", "receive_ns", "price", "size", "side", "open", "high", "low", "book", "seq")

__all__ = ["BAR", "BOOK", "INDEX", "TRADE", "EventBatch", "MarketEvent", "MarketSnapshot"]
