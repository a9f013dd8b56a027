"""Daily loss limit: past it, the engine moves to REDUCING or HALTED (``risk.on_daily_loss_limit``)."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Params, RiskRule
from jgod_core.execution.orders import Action, Order, Verdict
from jgod_plugins.risk._common import fmt_twd


class DailyLossParams(Params):
    max_daily_loss_fraction: float = Field(0.03, gt=0, le=1, description="Loss since the day's start, as a "
                                                                          "fraction of the starting equity.")


class DailyLossRule(RiskRule):
    """Once today's loss reaches the limit, asks for the configured state and denies exposure-increasing orders.

    Loss = (day-start equity − current equity) / day-start equity, marked at current prices.
    """

    name = "daily_loss"
    version = "1.0.0"
    Params = DailyLossParams

    def check(self, order: Order, context) -> Verdict:
        start = context.day_start_equity
        if start <= 0:
            return Verdict.approve(self.name, order)
        loss = (start - context.equity) / start
        limit = self.params.max_daily_loss_fraction
        if loss < limit:
            return Verdict.approve(self.name, order)
        state = context.daily_loss_state
        reason = (f"daily_loss: loss {loss:.2%} ({fmt_twd(start - context.equity)}) reached the limit {limit:.2%}; "
                  f"trading state → {state.value}")
        if context.increases_exposure(order):
            return Verdict.deny(self.name, reason, state_request=state, loss=loss, limit=limit)
        return Verdict(self.name, Action.APPROVE, reason, order.quantity,
                       {"loss": loss, "limit": limit}, state)
