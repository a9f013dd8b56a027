"""Helpers shared by the built-in routers: lot arithmetic and child-order construction."""

from __future__ import annotations

from dataclasses import fields
from typing import Sequence

import numpy as np

from jgod_core.execution.orders import ChildOrder, Order
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES

SESSION_MINUTES = 270.0  # 09:00–13:30


def effective_max_lots(max_slice_lots: int, approved) -> int:
    """The slice cap after the risk verdicts: × slice_factor, and ≤ the predicted-slippage cap (≥ 1 lot)."""
    lots = int(np.floor(max_slice_lots * approved.slice_factor + 1e-9))
    if approved.max_slice_shares:
        lots = min(lots, approved.max_slice_shares // BOARD_LOT_SHARES)
    return max(1, lots)


def split_remainder_first(total_lots: int, max_lots: int) -> list[int]:
    """Full slices of ``max_lots``; the remainder, if any, goes on the first slice."""
    full, remainder = divmod(total_lots, max_lots)
    return ([remainder] if remainder else []) + [max_lots] * full


def split_even(total_lots: int, n: int) -> list[int]:
    """``n`` slices as equal as whole lots allow; the extra lots go on the earliest slices."""
    n = max(1, min(n, total_lots))
    base, extra = divmod(total_lots, n)
    return [base + (1 if k < extra else 0) for k in range(n)]


def split_by_weights(total_lots: int, weights: Sequence[float]) -> list[int]:
    """Whole lots proportional to ``weights`` (largest-remainder rounding; sums to ``total_lots``)."""
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    raw = total_lots * w
    lots = np.floor(raw).astype(int)
    short = total_lots - int(lots.sum())
    order = np.argsort(-(raw - lots), kind="stable")
    lots[order[:short]] += 1
    return [int(x) for x in lots]


def make_children(parent: Order, lots: Sequence[int], windows: Sequence[tuple[float, float]]) -> list[ChildOrder]:
    """Child orders of ``parent`` (zero-lot slices dropped), ids ``<parent>-<k>``."""
    base = {f.name: getattr(parent, f.name) for f in fields(Order)}
    children = []
    for n_lots, (start, end) in zip(lots, windows):
        if n_lots <= 0:
            continue
        base.update(client_order_id=f"{parent.client_order_id}-{len(children) + 1:03d}",
                    quantity=int(n_lots) * BOARD_LOT_SHARES)
        children.append(ChildOrder(**base, parent_id=parent.client_order_id, slice_index=len(children),
                                   start_minute=float(start), end_minute=float(end)))
    return children


def even_windows(n: int, start: float, end: float) -> list[tuple[float, float]]:
    edges = np.linspace(start, end, n + 1)
    return [(float(edges[k]), float(edges[k + 1])) for k in range(n)]


def cap_slices(lots: list[int], max_lots: int) -> list[int]:
    """Split any slice above ``max_lots`` into pieces (keeps order)."""
    out: list[int] = []
    for n in lots:
        out.extend(split_remainder_first(n, max_lots) if n > max_lots else [n])
    return out
