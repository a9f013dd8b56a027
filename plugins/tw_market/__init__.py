"""The Taiwan venue: the XTAI calendar, TWSE/TPEx market rules (tick ladder, price limits, lots,
commission and tax), instruments, T+2 settlement, publication timing and market impact.

The kernel asks a venue for these facts; nothing Taiwan-specific lives in ``jgod_core``. This
module registers the venue component ``tw`` (:mod:`jgod_plugins.tw_market.venue`).
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the Taiwan venue."""
    from jgod_plugins.tw_market.venue import TaiwanVenue

    register(TaiwanVenue)
