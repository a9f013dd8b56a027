"""POV (percentage of volume): each bucket trades at most ``participation`` of its forecast volume.

Forecast volume of a bucket = ADV (mean daily shares over ``adv_days`` bars ending at the
decision date) × the bucket's share of the session: the VWAP volume profile when minute bars
are recorded, else an even share per bucket (stated in ``forecast_basis``). What the forecast
cannot absorb stays unscheduled: the router returns fewer shares than approved and the
remainder expires at the close.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from jgod_core import DataKind, MissingDataError, Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import SESSION_MINUTES, effective_max_lots, even_windows, make_children
from jgod_plugins.execution.vwap import VwapParams, VwapRouter
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES


class PovParams(Params):
    participation: float = Field(0.1, gt=0, le=0.5, description="Largest share of forecast bucket volume.")
    buckets: int = Field(9, ge=1, le=270, description="Equal time buckets over the session.")
    adv_days: int = Field(20, ge=1, le=260, description="Daily bars in the ADV.")
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots.")


class PovRouter(Router):
    """Caps each bucket's child at ``participation`` × forecast bucket volume."""

    name = "pov"
    version = "1.0.0"
    Params = PovParams
    requires = frozenset({DataKind.DAILY_BARS})

    forecast_basis = "even"

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        p = self.params
        parent = approved.order
        bars = market.bars(parent.symbol, p.adv_days) if market is not None else None
        if bars is None or not np.any(bars["volume"] > 0):
            raise MissingDataError(f"pov: no daily volume for {parent.symbol} to forecast participation")
        adv = float(np.nanmean(bars["volume"]))
        try:
            weights = VwapRouter(VwapParams(buckets=p.buckets)).profile(parent.symbol, market)
            self.forecast_basis = "volume_profile"
        except MissingDataError:
            weights = np.full(p.buckets, 1.0 / p.buckets)
            self.forecast_basis = "even"
        max_lots = effective_max_lots(p.max_slice_lots, approved)
        remaining = parent.quantity // BOARD_LOT_SHARES
        lots = []
        for w in weights:
            cap = int(p.participation * adv * w // BOARD_LOT_SHARES)
            take = min(remaining, cap, max_lots)
            lots.append(take)
            remaining -= take
        return make_children(parent, lots, even_windows(p.buckets, 0.0, SESSION_MINUTES))
