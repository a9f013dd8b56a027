"""Polygon.io: US daily aggregates (data source) and the websocket feed. Key from ``POLYGON_API_KEY``."""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the Polygon data source and realtime feed."""
    from jgod_plugins.adapters.polygon.data import PolygonSource
    from jgod_plugins.adapters.polygon.feed import PolygonFeed

    for component in (PolygonSource, PolygonFeed):
        register(component)
