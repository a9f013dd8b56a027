"""Built-in execution components: routers and brokers, one module each, registered here.

Routers: ``slicer`` (≤ 50 lots, remainder first), ``twap``, ``vwap``, ``pov``, ``iceberg``,
``almgren_chriss``. Broker: ``paper`` (recorded books, else daily bars); vendor brokers live in ``adapters/``.
"""

from jgod_core import hookimpl
from jgod_plugins.execution.almgren_chriss import AlmgrenChrissRouter
from jgod_plugins.execution.iceberg import IcebergRouter
from jgod_plugins.execution.paper import PaperBroker
from jgod_plugins.execution.pov import PovRouter
from jgod_plugins.execution.slicer import SlicerRouter
from jgod_plugins.execution.twap import TwapRouter
from jgod_plugins.execution.vwap import VwapRouter

ROUTERS = (SlicerRouter, TwapRouter, VwapRouter, PovRouter, IcebergRouter, AlmgrenChrissRouter)
BROKERS = (PaperBroker,)


@hookimpl
def jgod_register_components(register):
    """Register the execution routers and the paper broker."""
    for router in ROUTERS:
        register(router)
    for broker in BROKERS:
        register(broker)
