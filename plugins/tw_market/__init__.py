"""The Taiwan venue: the XTAI calendar, TWSE/TPEx market rules (tick ladder, price limits, lots,
commission and tax), instruments, T+2 settlement, publication timing and market impact.

The kernel asks a venue for these facts; nothing Taiwan-specific lives in ``jgod_core``.
"""
