"""Slicer: at most ``max_slice_lots`` per child order, the remainder on the first slice, all sent at once."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, Router
from jgod_core.orders import ChildOrder

from jgod_plugins.execution._slices import (SESSION_MINUTES, effective_max_lots, make_children,
                                            split_remainder_first)


class SlicerParams(Params):
    max_slice_lots: int = Field(50, ge=1, le=499, description="Largest child order, lots (SPEC §5: 50).")


class SlicerRouter(Router):
    """Cuts a parent order into slices of ``max_slice_lots`` (× the risk verdicts' slice factor).

    Example: 120 lots → 20, 50, 50. Every slice is working from the open to the close.
    """

    name = "slicer"
    version = "1.0.0"
    Params = SlicerParams

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        parent = approved.order
        max_lots = effective_max_lots(self.params.max_slice_lots, approved)
        lots = split_remainder_first(parent.quantity // 1000, max_lots)
        return make_children(parent, lots, [(0.0, SESSION_MINUTES)] * len(lots))
