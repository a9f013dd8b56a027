"""TWAP: equal slices at equal intervals between ``start_minute`` and ``end_minute`` of the session."""

from __future__ import annotations

from pydantic import Field, model_validator

from jgod_core import Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import cap_slices, effective_max_lots, even_windows, make_children, split_even


class TwapParams(Params):
    slices: int = Field(10, ge=1, le=1000, description="Number of time buckets.")
    start_minute: float = Field(0.0, ge=0, le=270, description="Minutes after 09:00 of the first bucket.")
    end_minute: float = Field(270.0, ge=0, le=270, description="Minutes after 09:00 of the end of the last bucket.")
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots.")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end_minute <= self.start_minute:
            raise ValueError("end_minute must be after start_minute")
        return self


class TwapRouter(Router):
    """Splits the parent evenly over ``slices`` equal time buckets (whole lots, extra lots first)."""

    name = "twap"
    version = "1.0.0"
    Params = TwapParams

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        p = self.params
        parent = approved.order
        lots = split_even(parent.quantity // 1000, p.slices)
        windows = even_windows(len(lots), p.start_minute, p.end_minute)
        max_lots = effective_max_lots(p.max_slice_lots, approved)
        pieces, piece_windows = [], []
        for n, window in zip(lots, windows):
            parts = cap_slices([n], max_lots)
            pieces.extend(parts)
            piece_windows.extend([window] * len(parts))
        return make_children(parent, pieces, piece_windows)
