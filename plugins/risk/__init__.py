"""Built-in risk components: one module per pre-trade rule, registered with the kernel here.

Market rules: ``tick_ladder``, ``price_band``, ``board_lot``, ``order_size``, ``duplicate_order``,
``submit_throttle``, ``stale_data``. Book limits: ``position_limit``, ``daily_loss``. Predictive rules (SPEC §4):
``predicted_slippage``, ``fragility``, ``macro_exposure``, ``portfolio_stress``, ``circuit_breaker``.
"""

from jgod_core import hookimpl


def risk_rule_classes() -> tuple:
    """The built-in risk rules, in the order the risk engine's defaults list them."""
    from jgod_plugins.risk.board_lot import BoardLotRule
    from jgod_plugins.risk.circuit_breaker import CircuitBreakerRule
    from jgod_plugins.risk.daily_loss import DailyLossRule
    from jgod_plugins.risk.duplicate_order import DuplicateOrderRule
    from jgod_plugins.risk.fragility import FragilityRule
    from jgod_plugins.risk.macro_exposure import MacroExposureRule
    from jgod_plugins.risk.order_size import OrderSizeRule
    from jgod_plugins.risk.portfolio_stress import PortfolioStressRule
    from jgod_plugins.risk.position_limit import PositionLimitRule
    from jgod_plugins.risk.predicted_slippage import PredictedSlippageRule
    from jgod_plugins.risk.price_band import PriceBandRule
    from jgod_plugins.risk.stale_data import StaleDataRule
    from jgod_plugins.risk.submit_throttle import SubmitThrottleRule
    from jgod_plugins.risk.tick_ladder import TickLadderRule

    return (
        TickLadderRule, PriceBandRule, BoardLotRule, OrderSizeRule, DuplicateOrderRule, SubmitThrottleRule,
        StaleDataRule, PositionLimitRule, DailyLossRule, PredictedSlippageRule, FragilityRule, MacroExposureRule,
        PortfolioStressRule, CircuitBreakerRule,
    )


@hookimpl
def jgod_register_components(register):
    """Register the built-in risk rules."""
    for rule in risk_rule_classes():
        register(rule)
