"""F_Exec live: cross-market lead and basis from the realtime processor."""

from __future__ import annotations

from pydantic import Field

from jgod_core import DataKind, Params
from jgod_plugins.intraday.factors import IntradayFactor
from jgod_plugins.intraday.layout import F_EXEC_COMPONENTS


class FExecLiveParams(Params):
    """Windows of the F_Exec components and each component's weight and scale in the score."""

    basis_window: int = Field(120, ge=2, le=10_000, description="Basis updates in its moving mean (SPEC: 120).")
    beta_window: int = Field(60, ge=3, le=10_000, description="Futures samples in the global beta (SPEC: 60).")
    beta_min_samples: int = Field(30, ge=3, le=10_000, description="Samples needed before a beta residual.")
    lead_samples: int = Field(5, ge=1, le=1_000, description="Futures samples k of the futures-lead move.")
    clip: float = Field(3.0, gt=0, le=10, description="Each scaled component is clipped to ± this.")
    basis_weight: float = Field(0.0, ge=-10, le=10, description="Raw basis: 0 by default (level, not signal).")
    basis_scale: float = Field(50.0, gt=0, le=10_000, description="Index points = one unit.")
    basis_residual_weight: float = Field(1.0, ge=-10, le=10, description="Premium over its mean is bullish.")
    basis_residual_scale: float = Field(50.0, gt=0, le=10_000, description="Index points = one unit (SPEC −50).")
    beta_residual_weight: float = Field(-1.0, ge=-10, le=10, description="Excess move vs global beta reverts.")
    beta_residual_scale: float = Field(0.001, gt=0, le=1, description="Return = one unit.")
    futures_lead_weight: float = Field(1.0, ge=-10, le=10, description="Futures moving ahead of spot leads it.")
    futures_lead_scale: float = Field(0.001, gt=0, le=1, description="Log return = one unit.")


class FExecLive(IntradayFactor):
    """Cross-market score: basis and basis residual (120 updates), global beta residual (60), futures lead.

    Inputs: futures trades or bars, an index feed (basis, lead) and a global futures feed (beta),
    each named by a feed's ``role``. Without the index or global feed the components that need
    it are reported missing. Lag: none. Warm-up: ``basis_window`` updates, ``beta_min_samples``
    and ``lead_samples`` futures buckets.
    """

    name = "f_exec_live"
    version = "1.0.0"
    Params = FExecLiveParams
    requires = frozenset({DataKind.INTRADAY_BARS})
    component_names = F_EXEC_COMPONENTS
