"""FinMind: Taiwan daily prices, chips, statements and corporate actions. Token from ``FINMIND_TOKEN``."""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the FinMind data source."""
    from jgod_plugins.adapters.finmind.data import FinMindSource

    register(FinMindSource)
