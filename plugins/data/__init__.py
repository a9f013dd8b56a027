"""Built-in data components.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_data_sources(register):
    """Register the sample, FinMind, Polygon and Shioaji data sources."""
    from jgod_plugins.data.finmind import FinMindSource
    from jgod_plugins.data.polygon import PolygonSource
    from jgod_plugins.data.sample import SampleDataSource
    from jgod_plugins.data.shioaji import ShioajiSource

    register(SampleDataSource)
    register(FinMindSource)
    register(PolygonSource)
    register(ShioajiSource)
