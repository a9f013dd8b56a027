"""T+2 cash settlement of a Taiwan cash account (TWSE).

TWSE settles stock trades on T+2 by net amount: on each settlement day the broker debits or
credits the investor's settlement bank account with the net of all trades done two trading days
earlier. The ledger and its rule are the kernel's (:mod:`jgod_core.execution.settlement`); only
the number of days is Taiwan's. Futures settle the same day (daily mark-to-market).
"""

from __future__ import annotations

from jgod_core.execution import settlement as _kernel
from jgod_core.execution.settlement import settle_due, unsettled_after  # noqa: F401 - re-exported

SETTLEMENT_DAYS = 2  # TWSE: T+2


class SettlementLedger(_kernel.SettlementLedger):
    """The kernel's T+n ledger with TWSE's T+2 as the default settlement days."""

    def __init__(self, initial_cash: float, n_days: int, settlement_days: int = SETTLEMENT_DAYS) -> None:
        super().__init__(initial_cash, n_days, settlement_days)
