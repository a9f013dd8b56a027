"""Sinopac Shioaji: historical ticks/bars (data source), the streaming feed and the broker.

Credentials from ``SHIOAJI_API_KEY`` / ``SHIOAJI_SECRET_KEY`` only.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_brokers(register):
    """Register the Shioaji broker."""
    from jgod_plugins.adapters.shioaji.broker import ShioajiBroker

    register(ShioajiBroker)


@hookimpl
def jgod_register_data_sources(register):
    """Register the Shioaji data source."""
    from jgod_plugins.adapters.shioaji.data import ShioajiSource

    register(ShioajiSource)


@hookimpl
def jgod_register_feeds(register):
    """Register the Shioaji realtime feed."""
    from jgod_plugins.adapters.shioaji.feed import ShioajiFeed

    register(ShioajiFeed)
