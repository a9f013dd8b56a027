"""Fake components for the validator's golden files, registered in-process.

Loaded by ``JGOD_PLUGINS=fixture_plugins`` (with ``tests/jgod_core`` on ``sys.path``) or by
``make_kernel(("fixture_plugins", module))``. They declare params, data needs, phases and
warm-up like real components, so the validator's checks can be exercised without depending on
the built-in plugins. ``compute`` is never called by the validator tests.
"""

from __future__ import annotations

from typing import Optional

from pydantic import Field

from jgod_core import (
    Backtester,
    Broker,
    DataKind,
    DataSource,
    Engine,
    Factor,
    Params,
    Phase,
    RiskRule,
    Router,
    SecretRef,
    hookimpl,
)
from jgod_plugins.portfolio.linear_combiner import LinearCombiner
from jgod_plugins.portfolio.top_n import TopN


class FxMomentumParams(Params):
    window_days: int = Field(20, ge=2, le=252, description="Look-back window in trading days.")
    threshold: float = Field(0.0, ge=-5.0, le=5.0, description="Scores below this are zeroed.")


class FxMomentum(Factor):
    """Fixture daily factor (window_days of daily bars)."""

    name = "fx_momentum"
    version = "1.0.0"
    Params = FxMomentumParams
    requires = frozenset({DataKind.DAILY_BARS})

    @classmethod
    def warmup_days(cls, params: FxMomentumParams) -> int:
        return params.window_days

    def compute(self, panel):
        raise NotImplementedError("fixture component: validator tests never run it")


class FxLongMemoryParams(Params):
    zscore_days: int = Field(252, ge=20, le=2000, description="Z-score window in trading days.")


class FxLongMemory(Factor):
    """Fixture daily factor with a 252-day warm-up."""

    name = "fx_long_memory"
    version = "1.0.0"
    Params = FxLongMemoryParams
    requires = frozenset({DataKind.DAILY_BARS})

    @classmethod
    def warmup_days(cls, params: FxLongMemoryParams) -> int:
        return params.zscore_days

    def compute(self, panel):
        raise NotImplementedError("fixture component")


class FxTickImbalanceParams(Params):
    levels: int = Field(5, ge=1, le=5, description="Order-book levels summed.")


class FxTickImbalance(Factor):
    """Fixture factor needing intraday ticks and the 5-level book."""

    name = "fx_tick_imbalance"
    version = "1.0.0"
    Params = FxTickImbalanceParams
    requires = frozenset({DataKind.INTRADAY_TICKS, DataKind.ORDER_BOOK_5})

    def compute(self, panel):
        raise NotImplementedError("fixture component")


class FxRegime(Engine):
    """Fixture engine (any phase)."""

    name = "fx_regime"
    version = "1.0.0"


class FxBreakerParams(Params):
    window_minutes: int = Field(5, ge=1, le=60, description="Rolling window of the Sharpe ratio.")
    sharpe_floor: float = Field(-0.5, ge=-10.0, le=0.0, description="Halt below this Sharpe.")


class FxBreaker(Engine):
    """Fixture engine that only runs intraday."""

    name = "fx_breaker"
    version = "1.0.0"
    Params = FxBreakerParams
    phases = frozenset({Phase.INTRADAY})


class FxSourceParams(Params):
    root: Optional[str] = Field(None, description="Directory of the files.")


class FxSource(DataSource):
    """Fixture data source."""

    name = "fx_source"
    version = "1.0.0"
    Params = FxSourceParams

    def load(self, store, progress=True):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")


class FxSlippageParams(Params):
    max_slippage: float = Field(0.0005, gt=0.0, le=0.05, description="Largest predicted slippage (fraction).")
    basis_residual_floor: float = Field(-50.0, ge=-1000.0, le=0.0, description="Basis residual alarm, points.")


class FxSlippage(RiskRule):
    """Fixture risk rule."""

    name = "fx_slippage"
    version = "1.0.0"
    Params = FxSlippageParams

    def check(self, order, context):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")


class FxSlicerParams(Params):
    max_slice_lots: int = Field(50, ge=1, le=500, description="Largest child order, board lots.")


class FxSlicer(Router):
    """Fixture router."""

    name = "fx_slicer"
    version = "1.0.0"
    Params = FxSlicerParams

    def schedule(self, approved, market=None):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")


class FxBrokerParams(Params):
    api_key: Optional[SecretRef] = Field(None, description="Broker API key, from the environment.")
    secret_key: Optional[SecretRef] = Field(None, description="Broker secret key, from the environment.")
    simulation: bool = Field(True, description="Use the broker's simulation environment.")


class FxBroker(Broker):
    """Fixture broker with secret fields."""

    name = "fx_broker"
    version = "1.0.0"
    Params = FxBrokerParams

    def submit(self, approved):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")

    def cancel_all(self, reason=""):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")


class FxBacktest(Backtester):
    """Fixture backtester."""

    name = "fx_backtest"
    version = "1.0.0"

    def run(self, panel, target_weights, first_day=0):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")

    def execution_assumptions(self):
        raise NotImplementedError("fixture component: declared for schema and validation tests only")


@hookimpl
def jgod_register_components(register):
    """Register every fixture component."""
    register(FxMomentum)
    register(FxLongMemory)
    register(FxTickImbalance)
    register(FxRegime)
    register(FxBreaker)
    register(FxSource)
    register(FxSlippage)
    register(FxSlicer)
    register(FxBroker)
    register(FxBacktest)
    # the built-in defaults of the combine: and portfolio: sections (their params are in the golden files)
    register(LinearCombiner)
    register(TopN)
