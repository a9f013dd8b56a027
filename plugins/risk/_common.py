"""Helpers shared by the built-in risk rules (not a component)."""

from __future__ import annotations

from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES


def floor_lots(shares: float) -> int:
    """Non-negative shares rounded down to whole board lots."""
    return max(0, int(shares // BOARD_LOT_SHARES)) * BOARD_LOT_SHARES


def fmt_twd(value: float) -> str:
    return f"NT${value:,.0f}"
