"""Built-in backtest components.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the Taiwan-rules daily backtester (imported here, not when the plugin loads)."""
    from jgod_plugins.backtest.tw_backtest import TaiwanBacktest

    register(TaiwanBacktest)
