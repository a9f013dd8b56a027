"""Predicted slippage: the cost of walking the order past the touch, before it is sent.

With a recorded 5-level book for the symbol, the order is walked through the opposite side
(:func:`jgod_plugins.tw_market.impact.walk_book`): slippage = side × (average price − touch) / touch.
Without one, the documented daily-bar estimate is used: square-root impact
``impact_coef × σ_daily × sqrt(Q / ADV)`` over ``window_days`` trailing bars ending at the decision
date (:func:`jgod_plugins.tw_market.impact.daily_bar_slippage`), labelled ``daily_bar_estimate``.

Beyond ``max_slippage`` the order is sliced (``max_slice_shares``: the largest slice that stays
within tolerance, whole lots) or, when not even one lot fits, rejected.
"""

from __future__ import annotations

import math

from pydantic import Field

from jgod_core import DataKind, Params, RiskRule
from jgod_core.execution.orders import Action, Order, Verdict
from jgod_core.risk.engine import PARENT
from jgod_plugins.risk._common import floor_lots
from jgod_plugins.tw_market.impact import (
    BOOK_MODEL,
    DAILY_BAR_MODEL,
    daily_bar_slippage,
    max_quantity_within,
    walk_book,
)
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES


class PredictedSlippageParams(Params):
    max_slippage: float = Field(0.0005, gt=0, le=0.1, description="Largest predicted slippage past the touch, "
                                                                  "fraction of price (SPEC §4: 0.05 %).")
    window_days: int = Field(20, ge=5, le=260, description="Trailing daily bars for σ and ADV (daily-bar model).")
    impact_coef: float = Field(0.5, gt=0, le=5, description="Square-root impact coefficient (daily-bar model).")


class PredictedSlippageRule(RiskRule):
    """Walks the order through the 5-level book (or the daily-bar model) and slices or rejects past tolerance."""

    name = "predicted_slippage"
    version = "1.0.0"
    Params = PredictedSlippageParams
    requires = frozenset({DataKind.DAILY_BARS})
    stages = (PARENT,)

    @classmethod
    def warmup_days(cls, params: PredictedSlippageParams) -> int:
        return params.window_days

    def predict(self, order: Order, context) -> dict:
        """Predicted slippage of ``order`` and the numbers behind it (raises ValueError without data)."""
        buy = order.side.sign > 0
        book = context.market.book(order.symbol) if context.market is not None else None
        if book is not None:
            walk = walk_book(book, order.quantity, buy)
            if walk.filled < order.quantity:
                slippage = math.inf
            else:
                slippage = walk.slippage
            cap = max_quantity_within(book, buy, self.params.max_slippage, BOARD_LOT_SHARES)
            return {"model": BOOK_MODEL, "predicted_slippage": slippage, "average_price": walk.average_price,
                    "touch": walk.touch, "levels": walk.levels, "book_depth_filled": walk.filled,
                    "max_slice_shares": int(cap)}
        bars = context.market.bars(order.symbol, self.params.window_days + 1) if context.market is not None else None
        if bars is None or "close" not in bars:
            raise ValueError(f"no daily bars for {order.symbol}")
        est = daily_bar_slippage(order.quantity, float(order.limit_price), bars["close"], bars["volume"],
                                 order.is_etf, self.params.impact_coef)
        # impact(Q) = coef·σ·sqrt(Q/ADV) ≤ tol  ⇔  Q ≤ ADV·(tol / (coef·σ))²
        scale = self.params.impact_coef * est.sigma_daily
        cap = est.adv_shares * (self.params.max_slippage / scale) ** 2 if scale > 0 else math.inf
        return {"model": DAILY_BAR_MODEL, "predicted_slippage": est.impact, "half_spread": est.half_spread,
                "sigma_daily": est.sigma_daily, "adv_shares": est.adv_shares, "participation": est.participation,
                "max_slice_shares": floor_lots(min(cap, 1e15))}

    def check(self, order: Order, context) -> Verdict:
        tol = self.params.max_slippage
        try:
            numbers = self.predict(order, context)
        except ValueError as exc:
            return Verdict.deny(self.name, f"predicted_slippage: cannot predict ({exc}); order blocked")
        predicted = numbers["predicted_slippage"]
        if predicted <= tol:
            return Verdict.approve(self.name, order,
                                   f"predicted_slippage: {predicted:.5f} ≤ {tol:.5f} ({numbers['model']})", **numbers)
        cap = numbers["max_slice_shares"]
        if cap < BOARD_LOT_SHARES:
            return Verdict.deny(self.name, f"predicted_slippage: {predicted:.5f} > {tol:.5f} ({numbers['model']}) and "
                                           f"even one lot exceeds the tolerance; rejected", **numbers)
        return Verdict(self.name, Action.APPROVE,
                       f"predicted_slippage: {predicted:.5f} > {tol:.5f} ({numbers['model']}); sliced to at most "
                       f"{cap // BOARD_LOT_SHARES} lots per slice", order.quantity, numbers, None, 1.0, int(cap))
