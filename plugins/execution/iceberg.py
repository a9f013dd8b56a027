"""Iceberg: only ``display_lots`` are shown at a time; the next clip goes out when the previous one is done."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, Router
from jgod_core.execution.orders import ChildOrder
from jgod_plugins.execution._slices import (
    SESSION_MINUTES,
    effective_max_lots,
    even_windows,
    make_children,
    split_remainder_first,
)


class IcebergParams(Params):
    display_lots: int = Field(5, ge=1, le=499, description="Visible size of each clip, lots.")


class IcebergRouter(Router):
    """Cuts the parent into clips of ``display_lots`` (remainder on the first), released one after another.

    Clip ``k`` owns the ``k``-th equal share of the session; the broker releases it only once
    clip ``k − 1`` is finished (children are ordered by ``slice_index``).
    """

    name = "iceberg"
    version = "1.0.0"
    Params = IcebergParams

    def schedule(self, approved, market=None) -> list[ChildOrder]:
        parent = approved.order
        clip = min(self.params.display_lots, effective_max_lots(self.params.display_lots, approved))
        lots = split_remainder_first(parent.quantity // 1000, clip)
        return make_children(parent, lots, even_windows(len(lots), 0.0, SESSION_MINUTES))
