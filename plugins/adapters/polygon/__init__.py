"""Polygon.io: US daily aggregates (data source) and the websocket feed. Key from ``POLYGON_API_KEY``."""

from jgod_core import hookimpl


@hookimpl
def jgod_register_data_sources(register):
    """Register the Polygon data source."""
    from jgod_plugins.adapters.polygon.data import PolygonSource

    register(PolygonSource)


@hookimpl
def jgod_register_feeds(register):
    """Register the Polygon realtime feed."""
    from jgod_plugins.adapters.polygon.feed import PolygonFeed

    register(PolygonFeed)
