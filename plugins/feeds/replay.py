"""Replay feed: plays a real recording as if it arrived live, stamped with its own exchange times."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Literal, Sequence

import numpy as np
from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.data.events import BOOK, EventBatch, MarketEvent
from jgod_core.realtime.clock import LoopClock
from jgod_plugins.feeds import recordings

DAY_NS = 86_400_000_000_000


class ReplayFeedParams(Params):
    """Which shipped recording to play, as which symbol and role, and how it is aligned in the live loop."""

    recording: Literal["taifex_tx_1min", "taifex_tx_ticks", "binance_btcusdt_book"] = Field(
        "taifex_tx_1min", description="Which shipped recording to play (see the data README).")
    symbol: str = Field("TX", min_length=1, max_length=16, description="Symbol the recording's events carry.")
    session: Literal["day", "night", "both"] = Field("day", description="TX bars: which session of the date.")
    tradable: bool = Field(True, description="False: the feed only feeds components (no orders on its symbol).")
    stale_after_seconds: float = Field(90.0, gt=0, le=3600, description="No event for this long → stale.")
    role: Literal["none", "futures", "index", "global"] = Field(
        "none", description="F_Exec role of the symbol (futures vs index basis, global beta).")
    date: dt.date | None = Field(None, description="Live loop: recording date to play (default: the session's "
                                                   "date); it is moved onto the session's date, time of day kept.")
    live_alignment: Literal["time_of_day", "connect"] = Field(
        "time_of_day", description="Live loop: keep the recorded time of day (dated recordings) or start the "
                                   "recording when the feed first connects (a fixed window such as BTCUSDT).")


class ReplayFeed(Feed):
    """Plays a shipped real recording: TX 1-minute bars of one date, the TX tick excerpt, or the BTCUSDT book.

    Inputs: the recordings in ``jgod_plugins.data/sample_data/intraday``. A bar is emitted at its
    end time (no look-ahead). ``events(date)`` returns the events in recorded order.
    The BTCUSDT recording (2024-08-08/09) is a fixed window: it plays whatever the date.

    In the live loop (``jgod serve``) :meth:`transport` plays the same events on the session
    clock (wall or virtual): each is delivered when the clock reaches its exchange time.
    """

    name = "replay"
    version = "1.0.0"
    Params = ReplayFeedParams
    provides = {
        "taifex_tx_1min": frozenset({DataKind.INTRADAY_BARS}),
        "taifex_tx_ticks": frozenset({DataKind.INTRADAY_TICKS}),
        "binance_btcusdt_book": frozenset({DataKind.INTRADAY_TICKS, DataKind.ORDER_BOOK_5}),
    }

    def data_kinds(self) -> frozenset[DataKind]:
        return self.provides[self.params.recording]

    def events(self, date: dt.date) -> tuple[EventBatch, list[str]]:
        p = self.params
        if p.recording == "taifex_tx_1min":
            return recordings.read_tx_bars(date, p.session, p.symbol)
        if p.recording == "taifex_tx_ticks":
            return recordings.read_tx_ticks(symbol=p.symbol)
        return recordings.read_binance_book(symbol=p.symbol)

    def reference_price(self, date: dt.date) -> float | None:
        """Close of the previous recorded trade date's day session (TX), else None."""
        if self.params.recording != "taifex_tx_1min":
            return None
        return recordings.previous_day_close(date)

    # -- live loop ------------------------------------------------------------------------------

    @property
    def contiguous_seq(self) -> bool:
        """TX bars and ticks are numbered 0, 1, 2 …; Binance update and trade ids skip."""
        return self.params.recording != "binance_btcusdt_book"

    def symbols(self) -> list[str]:
        return [self.params.symbol]

    def transport(self, clock: LoopClock, day: dt.date, source: str = "replay") -> "ReplayTransport":
        recorded = self.params.date or day
        batch, symbols = self.events(recorded)
        shift = None
        if self.params.live_alignment == "time_of_day":
            shift = (day - recorded).days * DAY_NS
        return ReplayTransport(batch, symbols, source, clock, shift)

    @staticmethod
    def decode(message: list[MarketEvent]) -> list[MarketEvent]:
        return message


class ReplayTransport:
    """A recording played on the session clock, one message per distinct exchange time.

    ``shift_ns`` moves the recording onto the session (None: its first event falls at the first
    connect). A (re)connect joins at the current time: what passed while disconnected is lost,
    as on a live feed. After the last event the feed stays silent (and goes stale).
    """

    def __init__(self, batch: EventBatch, symbols: Sequence[str], source: str, clock: LoopClock,
                 shift_ns: int | None) -> None:
        self.clock = clock
        self.source = source
        self.shift_ns = shift_ns
        self.subscriptions: list[tuple[str, ...]] = []
        self.connects = 0
        self._exchange = batch.exchange_ns.copy()
        self._starts = np.flatnonzero(np.r_[True, np.diff(self._exchange) != 0])
        self._ends = np.r_[self._starts[1:], len(self._exchange)].astype(np.int64)
        names = [symbols[i] for i in batch.symbol.tolist()]
        books = [tuple(row) if k == BOOK else None for k, row in zip(batch.kind.tolist(), batch.book.tolist())]
        self._rows = list(zip(names, batch.kind.tolist(), batch.seq.tolist(), batch.price.tolist(),
                              batch.size.tolist(), batch.side.tolist(), batch.open.tolist(), batch.high.tolist(),
                              batch.low.tolist(), books))
        self._group = 0
        self._open = False

    async def connect(self) -> None:
        if not len(self._exchange):
            raise ConnectionRefusedError(f"{self.source}: the recording is empty")
        if self.shift_ns is None:
            self.shift_ns = self.clock.now_ns() - int(self._exchange[0])
        now = self.clock.now_ns() - self.shift_ns
        self._group = int(np.searchsorted(self._exchange[self._starts], now, side="left"))
        self._open = True
        self.connects += 1

    async def subscribe(self, symbols: Sequence[str]) -> None:
        self.subscriptions.append(tuple(symbols))

    async def receive(self) -> list[MarketEvent]:
        if not self._open:
            raise ConnectionResetError(f"{self.source}: not connected")
        if self._group >= len(self._starts):
            await asyncio.Event().wait()  # the recording is over: silence until the session stops
        start, end = int(self._starts[self._group]), int(self._ends[self._group])
        exchange_ns = int(self._exchange[start]) + self.shift_ns
        await self.clock.sleep_until(exchange_ns)
        if not self._open:
            raise ConnectionResetError(f"{self.source}: closed")
        self._group += 1
        received = self.clock.now_ns()
        return [MarketEvent(self.source, sym, kind, exchange_ns, received, seq, px, size, side, o, h, lo, book)
                for sym, kind, seq, px, size, side, o, h, lo, book in self._rows[start:end]]

    async def snapshot(self, symbol: str) -> list[MarketEvent]:
        return []  # a recording has no snapshot service: the next event re-anchors the sequence

    async def close(self) -> None:
        self._open = False
