"""Stale data: no order for a symbol whose market data is too old or whose feed the health monitor blocks.

Inputs (kept current by the realtime loop from its :class:`~jgod_core.realtime.health.HealthMonitor`):
``context.blocked`` (symbol → why its feed is blocked: disconnected, resyncing after a gap,
stale) and ``context.last_data`` (symbol → exchange time of its latest event, the decision
clock's time zone). An order is denied when its symbol is blocked, when it has no recorded
data, or when ``context.now − last_data`` exceeds ``max_age_seconds``. No warm-up. Daily runs
carry no per-symbol data clock, so this rule belongs in intraday pipelines.
"""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Order, Verdict


class StaleDataParams(Params):
    max_age_seconds: float = Field(90.0, gt=0, le=86_400, description="Oldest acceptable market data for the "
                                                                      "order's symbol, seconds before the decision.")


class StaleDataRule(RiskRule):
    """Denies orders on blocked symbols and on symbols whose latest data is older than ``max_age_seconds``."""

    name = "stale_data"
    version = "1.0.0"
    Params = StaleDataParams

    def check(self, order: Order, context) -> Verdict:
        why = context.blocked.get(order.symbol)
        if why:
            return Verdict.deny(self.name, f"stale_data: {order.symbol} is blocked by the health monitor ({why})",
                                blocked=why)
        last = context.last_data.get(order.symbol)
        if last is None:
            return Verdict.deny(self.name, f"stale_data: no market data recorded for {order.symbol}")
        age = (context.now - last).total_seconds()
        limit = self.params.max_age_seconds
        if age > limit:
            return Verdict.deny(self.name, f"stale_data: latest {order.symbol} data is {age:.1f} s old (limit "
                                           f"{limit:g} s, last at {last:%H:%M:%S})", age_seconds=age,
                                max_age_seconds=limit)
        return Verdict.approve(self.name, order)
