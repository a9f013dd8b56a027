"""Fragility: cost per tick = Σ traded volume / Σ |price change in ticks|; thin names get smaller, finer orders.

From daily bars the intraday path is the shortest one through open, high, low and close
(:func:`jgod_plugins.tw_market.impact.daily_path_ticks`), over ``window_days`` bars ending at the
decision date. Below ``threshold_shares_per_tick`` an exposure-increasing order's size is
multiplied by ``penalty`` (whole lots) and its slices by ``slice_factor``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from jgod_core import DataKind, Params, RiskRule
from jgod_core.execution.orders import Order, Verdict
from jgod_core.risk.engine import PARENT
from jgod_plugins.risk._common import floor_lots
from jgod_plugins.tw_market.impact import cost_per_tick, daily_path_ticks
from jgod_plugins.tw_market.rules import tick_size


class FragilityParams(Params):
    threshold_shares_per_tick: float = Field(5000.0, gt=0, description="Cost per tick below which a name is fragile "
                                                                       "(shares traded per one-tick move).")
    penalty: float = Field(0.5, gt=0, le=1, description="Size multiplier for fragile names.")
    slice_factor: float = Field(0.5, gt=0, le=1, description="Slice-size multiplier for fragile names.")
    window_days: int = Field(20, ge=1, le=260, description="Trailing daily bars.")


class FragilityRule(RiskRule):
    """Cuts exposure-increasing orders in names whose cost per tick is below the threshold."""

    name = "fragility"
    version = "1.0.0"
    Params = FragilityParams
    requires = frozenset({DataKind.DAILY_BARS})
    stages = (PARENT,)

    @classmethod
    def warmup_days(cls, params: FragilityParams) -> int:
        return params.window_days

    def cost_per_tick(self, order: Order, context) -> float:
        bars = context.market.bars(order.symbol, self.params.window_days) if context.market is not None else None
        if bars is None or "high" not in bars:
            raise ValueError(f"no daily bars for {order.symbol}")
        ticks = daily_path_ticks(bars["open"], bars["high"], bars["low"], bars["close"],
                                 np.asarray(tick_size(bars["close"], order.is_etf)))
        return cost_per_tick(bars["volume"], ticks)

    def check(self, order: Order, context) -> Verdict:
        if not context.increases_exposure(order):
            return Verdict.approve(self.name, order)
        try:
            cpt = self.cost_per_tick(order, context)
        except ValueError as exc:
            return Verdict.deny(self.name, f"fragility: cannot compute cost per tick ({exc}); order blocked")
        threshold = self.params.threshold_shares_per_tick
        if cpt >= threshold:
            return Verdict.approve(self.name, order, f"fragility: cost per tick {cpt:,.0f} ≥ {threshold:,.0f}",
                                   cost_per_tick=cpt, threshold=threshold)
        quantity = floor_lots(order.quantity * self.params.penalty)
        return Verdict.reduce(
            self.name, quantity,
            f"fragility: cost per tick {cpt:,.0f} < {threshold:,.0f}; size × {self.params.penalty:g} "
            f"({order.quantity} → {quantity} shares), slices × {self.params.slice_factor:g}",
            self.params.slice_factor, cost_per_tick=cpt, threshold=threshold, penalty=self.params.penalty)
