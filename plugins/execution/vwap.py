"""VWAP: slices proportional to the historical intraday volume profile.

The profile is the mean share of day-session volume per time bucket over the last
``history_days`` sessions of minute bars recorded *before* the decision date (the market view's
``intraday_bars(symbol)``, falling back to the market-wide ``"*"`` recording). Without such a
history the router refuses with the reason; it never assumes a profile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from jgod_core import DataKind, MissingDataError, Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import (
    SESSION_MINUTES,
    cap_slices,
    effective_max_lots,
    even_windows,
    make_children,
    split_by_weights,
)


class VwapParams(Params):
    buckets: int = Field(9, ge=1, le=270, description="Equal time buckets over the 09:00–13:30 session.")
    history_days: int = Field(20, ge=1, le=260, description="Sessions of minute bars averaged into the profile.")
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots.")


def volume_profile(minute_bars: pd.DataFrame, buckets: int, history_days: int) -> np.ndarray:
    """Mean share of session volume per bucket. ``minute_bars``: ``bar_start`` (tz-aware or Taipei), ``volume``.

    Only bars inside 09:00–13:30 Asia/Taipei count; each session's shares are computed first,
    then averaged over the last ``history_days`` sessions, so a heavy day does not dominate.
    """
    ts = pd.to_datetime(minute_bars["bar_start"])
    ts = ts.dt.tz_convert("Asia/Taipei") if ts.dt.tz is not None else ts
    minute = (ts.dt.hour - 9) * 60 + ts.dt.minute
    inside = (minute >= 0) & (minute < SESSION_MINUTES)
    frame = pd.DataFrame({"day": ts.dt.date[inside], "bucket": (minute[inside] * buckets // SESSION_MINUTES).astype(int),
                          "volume": minute_bars["volume"].to_numpy(float)[inside.to_numpy()]})
    days = sorted(frame["day"].unique())[-history_days:]
    frame = frame[frame["day"].isin(days)]
    table = frame.pivot_table(index="day", columns="bucket", values="volume", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=range(buckets), fill_value=0.0)
    shares = table.div(table.sum(axis=1), axis=0)
    return shares.mean(axis=0).to_numpy()


class VwapRouter(Router):
    """Splits the parent across time buckets in proportion to the historical volume profile."""

    name = "vwap"
    version = "1.0.0"
    Params = VwapParams
    requires = frozenset({DataKind.INTRADAY_BARS})

    def profile(self, symbol: str, market) -> np.ndarray:
        bars = None
        getter = getattr(market, "intraday_bars", None)
        if getter is not None:
            bars = getter(symbol)
            if bars is None or len(bars) == 0:
                bars = getter("*")
        if bars is None or len(bars) == 0:
            raise MissingDataError(f"vwap: no intraday minute bars for {symbol} (or the market) before the decision "
                                   "date; a volume profile cannot be estimated")
        return volume_profile(bars, self.params.buckets, self.params.history_days)

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        parent = approved.order
        weights = self.profile(parent.symbol, market)
        lots = split_by_weights(parent.quantity // 1000, weights)
        windows = even_windows(self.params.buckets, 0.0, SESSION_MINUTES)
        max_lots = effective_max_lots(self.params.max_slice_lots, approved)
        pieces, piece_windows = [], []
        for n, window in zip(lots, windows):
            parts = cap_slices([n], max_lots) if n else []
            pieces.extend(parts)
            piece_windows.extend([window] * len(parts))
        return make_children(parent, pieces, piece_windows)
