"""Built-in factors components.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl
from jgod_plugins.factors.cross_market import CrossMarketFactor
from jgod_plugins.factors.cycle import CycleFactor
from jgod_plugins.factors.drive import DriveFactor
from jgod_plugins.factors.microstructure import MicrostructureFactor
from jgod_plugins.factors.style import StyleFactor

FACTORS = (CycleFactor, StyleFactor, DriveFactor, MicrostructureFactor, CrossMarketFactor)


@hookimpl
def jgod_register_components(register):
    for factor in FACTORS:
        register(factor)
