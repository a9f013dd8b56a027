"""Intraday signal: the combined intraday factor score → a target position with hysteresis."""

from __future__ import annotations

import datetime as dt
from typing import Mapping, Sequence

from pydantic import Field

from jgod_core import Factor, Params
from jgod_core.realtime.signal import IntradaySignal as IntradaySignalBase
from jgod_plugins.intraday.factors import IntradayFactor
from jgod_plugins.intraday.processor import IntradayProcessor, ProcessorParams


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


class IntradaySignal(IntradaySignalBase):
    """Turns the weighted sum of intraday factor scores into a target position per tradable symbol.

    Target = ±max_position when |score| ≥ entry_score (sign of the score), 0 when |score| <
    exit_score, else unchanged (hysteresis). Inputs: intraday factor scores (F_Stat / F_Exec of the
    fused processor, :class:`~jgod_plugins.intraday.processor.IntradayProcessor`) at each decision.
    Lag: none. Warm-up: that of the factors.
    """

    name = "intraday_signal"
    version = "1.0.0"
    Params = IntradaySignalParams

    def make_processor(self, symbols: Sequence[str], roles: Mapping[str, str],
                       factors: Sequence[Factor]) -> IntradayProcessor:
        """The fused F_Stat / F_Exec processor; a processor window set by a factor's params wins
        (the last factor that sets it)."""
        values: dict = {}
        for factor in factors:
            for key, value in factor.params.model_dump().items():
                if key in ProcessorParams.model_fields:
                    values[key] = value
        return IntradayProcessor(symbols, ProcessorParams(**values), futures_symbol=roles.get("futures"),
                                 index_symbol=roles.get("index"), global_symbol=roles.get("global"))

    def accepts(self, factor: Factor) -> bool:
        """Only the intraday factors of this plugin read the processor's components."""
        return isinstance(factor, IntradayFactor)

    def decision_seconds(self) -> int:
        return self.params.decision_seconds

    def decision_settle_ns(self) -> int:
        return int(self.params.decision_settle_ms * 1_000_000)

    def no_new_orders_after(self) -> dt.time:
        return dt.time.fromisoformat(self.params.no_new_orders_after)

    def limit_price(self, last_price: float, buy: bool) -> float:
        """``limit_offset_ticks`` ticks through ``last_price`` (a marketable limit), on the tick grid."""
        tick = self.params.tick_size
        limit = last_price + (1 if buy else -1) * self.params.limit_offset_ticks * tick
        return round(round(limit / tick) * tick, 2)

    def target(self, score: float, current: int) -> int:
        p = self.params
        if score != score:  # NaN: no opinion, keep the position
            return current
        if abs(score) >= p.entry_score:
            return p.max_position if score > 0 else -p.max_position
        if abs(score) < p.exit_score:
            return 0
        return current
