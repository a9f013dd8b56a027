"""Slicer: at most ``max_slice_lots`` per child order, the remainder on the first slice, one slice every
``interval_minutes`` from the open (0: all at the open)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from jgod_core import Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import SESSION_MINUTES, effective_max_lots, make_children, split_remainder_first


class SlicerParams(Params):
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots (SPEC §5: 50).")
    interval_minutes: float = Field(5.0, ge=0, le=270, description="Minutes between the releases of consecutive "
                                                                   "slices (0: every slice at the open).")


class SlicerRouter(Router):
    """Cuts a parent order into slices of ``max_slice_lots`` (× the risk verdicts' slice factor).

    Example: 120 lots → 20, 50, 50, released at 09:00, 09:05, 09:10 (``interval_minutes`` 5; a slice
    that would start after the close starts at the close); each works until the close.
    """

    name = "slicer"
    version = "1.0.0"
    Params = SlicerParams
    is_default: ClassVar[bool] = True  # the router of a pipeline that names no execution.router

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        parent = approved.order
        max_lots = effective_max_lots(self.params.max_slice_lots, approved)
        lots = split_remainder_first(parent.quantity // 1000, max_lots)
        starts = [min(k * self.params.interval_minutes, SESSION_MINUTES) for k in range(len(lots))]
        return make_children(parent, lots, [(start, SESSION_MINUTES) for start in starts])
