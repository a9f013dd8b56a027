"""Built-in backtest components.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl
from jgod_plugins.backtest.tw_backtest import TaiwanBacktest


@hookimpl
def jgod_register_components(register):
    """Register the Taiwan-rules daily backtester."""
    register(TaiwanBacktest)
