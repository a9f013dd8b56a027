"""Replay feed: plays a real recording as if it arrived live, stamped with its own exchange times."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from jgod_core import DataKind, Feed, Params
from jgod_core.realtime.events import EventBatch
from jgod_plugins.feeds import recordings


class ReplayFeedParams(Params):
    recording: Literal["taifex_tx_1min", "taifex_tx_ticks", "binance_btcusdt_book"] = Field(
        "taifex_tx_1min", description="Which shipped recording to play (see the data README).")
    symbol: str = Field("TX", min_length=1, max_length=16, description="Symbol the recording's events carry.")
    session: Literal["day", "night", "both"] = Field("day", description="TX bars: which session of the date.")
    tradable: bool = Field(True, description="False: the feed only feeds components (no orders on its symbol).")
    stale_after_seconds: float = Field(90.0, gt=0, le=3600, description="No event for this long → stale.")
    role: Literal["none", "futures", "index", "global"] = Field(
        "none", description="F_Exec role of the symbol (futures vs index basis, global beta).")


class ReplayFeed(Feed):
    """Plays a shipped real recording: TX 1-minute bars of one date, the TX tick excerpt, or the BTCUSDT book.

    Inputs: the recordings in ``jgod_plugins.data/sample_data/intraday``. A bar is emitted at its
    end time (no look-ahead). ``events(date)`` returns the events in recorded order.
    The BTCUSDT recording (2024-08-08/09) is a fixed window: it plays whatever the date.
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
