"""N-day price momentum on dividend/split-adjusted closes."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from jgod_core import DataKind, Factor, FactorResult, Panel, Params, Phase


class PriceMomentumParams(Params):
    """Params of :class:`PriceMomentum`."""

    window_days: int = Field(20, ge=1, le=504, description="Trading days between the two closes compared.")
    skip_days: int = Field(
        0, ge=0, le=63, description="Most recent trading days left out (e.g. 21 for '12-1' momentum)."
    )


class PriceMomentum(Factor[PriceMomentumParams]):
    """Price momentum: adjusted close ``skip_days`` ago over the one ``window_days`` before, minus 1.

    ``momentum[i, t] = adj_close[i, t - skip] / adj_close[i, t - skip - window] - 1``, counted in
    positions of the panel's trading-date grid, where ``adj_close = close × adj_factor`` (the raw
    close when the panel holds no adjustment factors). Reads nothing after ``t``. NaN when either
    close is absent (halt, before listing) and for the first ``window + skip`` dates (warm-up).
    Score: the momentum itself (the pipeline's combiner standardises scores across symbols).
    """

    name = "price_momentum"
    version = "0.1.0"
    Params = PriceMomentumParams
    requires = frozenset({DataKind.DAILY_BARS})
    phases = frozenset({Phase.PRE_MARKET, Phase.POST_MARKET})

    @classmethod
    def warmup_days(cls, params: PriceMomentumParams) -> int:
        return params.window_days + params.skip_days

    def compute(self, panel: Panel) -> FactorResult:
        close = panel.adjusted("close")
        lag_recent, lag_old = self.params.skip_days, self.params.skip_days + self.params.window_days
        momentum = np.full(close.shape, np.nan)
        if close.shape[1] > lag_old:
            recent = close[:, lag_old - lag_recent : close.shape[1] - lag_recent]
            old = close[:, : close.shape[1] - lag_old]
            with np.errstate(divide="ignore", invalid="ignore"):
                momentum[:, lag_old:] = np.where(old > 0, recent / old - 1.0, np.nan)
        return FactorResult(self.name, score=momentum, components={"momentum": momentum})
