"""Duplicate orders: a client order id already approved is denied (retries reuse ids, never resend)."""

from __future__ import annotations

from jgod_core import NoParams, RiskRule
from jgod_core.execution.orders import Order, Verdict


class DuplicateOrderRule(RiskRule):
    """Denies an order whose client order id the engine has already approved."""

    name = "duplicate_order"
    version = "1.0.0"
    Params = NoParams

    def check(self, order: Order, context) -> Verdict:
        if order.client_order_id in context.seen_client_ids:
            return Verdict.deny(self.name, f"duplicate_order: client order id {order.client_order_id} was already "
                                           "approved", client_order_id=order.client_order_id)
        return Verdict.approve(self.name, order)
