"""Sinopac Shioaji: historical ticks/bars (data source), the streaming feed and the broker.

Credentials from ``SHIOAJI_API_KEY`` / ``SHIOAJI_SECRET_KEY`` only.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the Shioaji broker, data source and realtime feed."""
    from jgod_plugins.adapters.shioaji.broker import ShioajiBroker
    from jgod_plugins.adapters.shioaji.data import ShioajiSource
    from jgod_plugins.adapters.shioaji.feed import ShioajiFeed

    for component in (ShioajiBroker, ShioajiSource, ShioajiFeed):
        register(component)
