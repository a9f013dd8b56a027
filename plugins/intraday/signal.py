"""Intraday signal: the combined intraday factor score → a target position with hysteresis."""

from __future__ import annotations

from pydantic import Field

from jgod_core import Engine, Params
from jgod_core.plugin.components import Phase


class IntradaySignalParams(Params):
    """Entry/exit thresholds, position size, decision cadence and limit pricing of the intraday signal."""

    entry_score: float = Field(1.5, gt=0, le=100, description="|score| at or above this opens a position.")
    exit_score: float = Field(0.5, ge=0, le=100, description="|score| below this closes the position.")
    max_position: int = Field(1, ge=1, le=1_000_000, description="Target size (contracts or shares) when in.")
    decision_seconds: int = Field(60, ge=1, le=3600, description="A decision every this many exchange seconds.")
    limit_offset_ticks: int = Field(2, ge=0, le=100, description="Limit price crosses the last price by this "
                                                                  "many ticks (marketable limit).")
    tick_size: float = Field(1.0, gt=0, le=100, description="Price increment of the traded instrument "
                                                           "(TX: 1 index point).")
    decision_settle_ms: float = Field(50.0, ge=0, le=10_000, description="Live loop: the decision of grid time t "
                                                                        "runs at t + this, so events stamped up to t "
                                                                        "still in transit are included.")
    no_new_orders_after: str = Field("13:25", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                                     description="No new positions after this time, Asia/Taipei (closing call).")


class IntradaySignal(Engine):
    """Turns the weighted sum of intraday factor scores into a target position per tradable symbol.

    Target = ±max_position when |score| ≥ entry_score (sign of the score), 0 when |score| <
    exit_score, else unchanged (hysteresis). Inputs: intraday factor scores at each decision.
    Lag: none. Warm-up: that of the factors.
    """

    name = "intraday_signal"
    version = "1.0.0"
    Params = IntradaySignalParams
    phases = frozenset({Phase.INTRADAY})

    def target(self, score: float, current: int) -> int:
        p = self.params
        if score != score:  # NaN: no opinion, keep the position
            return current
        if abs(score) >= p.entry_score:
            return p.max_position if score > 0 else -p.max_position
        if abs(score) < p.exit_score:
            return 0
        return current
