"""Built-in execution components: routers and brokers, one module each, registered here.

Routers: ``slicer`` (≤ 50 lots, remainder first), ``twap``, ``vwap``, ``pov``, ``iceberg``,
``almgren_chriss``. Broker: ``paper`` (recorded books, else daily bars); vendor brokers live in ``adapters/``.
The modules are imported when the kernel asks for the components, not when the plugin loads.
"""

from jgod_core import hookimpl


def router_classes() -> tuple:
    """The built-in routers."""
    from jgod_plugins.execution.almgren_chriss import AlmgrenChrissRouter
    from jgod_plugins.execution.iceberg import IcebergRouter
    from jgod_plugins.execution.pov import PovRouter
    from jgod_plugins.execution.slicer import SlicerRouter
    from jgod_plugins.execution.twap import TwapRouter
    from jgod_plugins.execution.vwap import VwapRouter

    return (SlicerRouter, TwapRouter, VwapRouter, PovRouter, IcebergRouter, AlmgrenChrissRouter)


def broker_classes() -> tuple:
    """The built-in brokers."""
    from jgod_plugins.execution.paper import PaperBroker

    return (PaperBroker,)


@hookimpl
def jgod_register_components(register):
    """Register the execution routers and the paper broker."""
    for component in (*router_classes(), *broker_classes()):
        register(component)
