"""F_Stat live: the intraday microstructure factor from the realtime processor."""

from __future__ import annotations

from pydantic import Field

from jgod_core import DataKind, Params
from jgod_plugins.intraday.factors import IntradayFactor
from jgod_plugins.intraday.layout import F_STAT_COMPONENTS


class FStatLiveParams(Params):
    """Windows of the F_Stat components and each component's weight and scale in the score."""

    bucket_seconds: int = Field(60, ge=1, le=3600, description="Bucket (bar) length of volume and return windows.")
    volume_window: int = Field(20, ge=5, le=240, description="Buckets in the volume-spike mean.")
    return_window: int = Field(20, ge=2, le=240, description="Buckets in the micro-reversal |return| scale.")
    run_length: int = Field(3, ge=1, le=20, description="Small buckets before a micro reversal.")
    cost_window: int = Field(30, ge=1, le=480, description="Buckets in the intraday cost line (RCNC).")
    flow_window: int = Field(200, ge=1, le=100_000, description="Classified trades in the aggressive-flow window.")
    cancel_drop_frac: float = Field(0.5, gt=0, lt=1, description="Best-size drop counted as a cancel.")
    clip: float = Field(3.0, gt=0, le=10, description="Each scaled component is clipped to ± this.")
    vwap_deviation_weight: float = Field(-1.0, ge=-10, le=10, description="Mean reversion to the session VWAP.")
    vwap_deviation_scale: float = Field(0.002, gt=0, le=1, description="Fraction of price = one unit.")
    volume_spike_weight: float = Field(0.0, ge=-10, le=10, description="Non-directional: 0 by default.")
    volume_spike_scale: float = Field(1.0, gt=0, le=100, description="Ratio = one unit.")
    aggressive_imbalance_weight: float = Field(1.0, ge=-10, le=10, description="Aggressive buying is bullish.")
    aggressive_imbalance_scale: float = Field(0.5, gt=0, le=1, description="Imbalance = one unit.")
    book_imbalance_weight: float = Field(1.0, ge=-10, le=10, description="Bid-heavy book is bullish.")
    book_imbalance_scale: float = Field(0.5, gt=0, le=1, description="Imbalance = one unit.")
    spread_change_weight: float = Field(0.0, ge=-10, le=10, description="Non-directional: 0 by default.")
    spread_change_scale: float = Field(1.0, gt=0, le=100, description="Relative change = one unit.")
    micro_reversal_weight: float = Field(1.0, ge=-10, le=10, description="Follow the large reversal bar.")
    micro_reversal_scale: float = Field(1.0, gt=0, le=10, description="±1 = one unit.")
    cancel_rate_weight: float = Field(0.0, ge=-10, le=10, description="Non-directional: 0 by default.")
    cancel_rate_scale: float = Field(1.0, gt=0, le=1, description="Rate = one unit.")
    cost_line_deviation_weight: float = Field(-1.0, ge=-10, le=10, description="Mean reversion to the cost line.")
    cost_line_deviation_scale: float = Field(0.002, gt=0, le=1, description="Fraction of price = one unit.")


class FStatLive(IntradayFactor):
    """Intraday microstructure score: VWAP deviation, volume spike, aggressive flow, 5-level imbalance,
    spread change, micro reversal, inferred cancel rate, cost line (definitions: jgod_plugins.intraday.kernels).

    Inputs: intraday trades or bars, and 5-level books when a feed provides them. Lag: none (each
    value uses events up to the decision time). Warm-up: 5 buckets (volume spike), ``run_length``
    buckets (micro reversal); no daily history.
    """

    name = "f_stat_live"
    version = "1.0.0"
    Params = FStatLiveParams
    requires = frozenset({DataKind.INTRADAY_BARS})
    component_names = F_STAT_COMPONENTS
