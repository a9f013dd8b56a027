"""Built-in factors components.

Each component lives in its own module; this module registers them with the kernel. The modules
are imported when the kernel asks for the components, not when the plugin loads, so commands that
need no factor (``jgod --help``) do not pay for numba.
"""

from jgod_core import hookimpl


def factor_classes() -> tuple:
    """The five built-in factors, in pipeline order."""
    from jgod_plugins.factors.cross_market import CrossMarketFactor
    from jgod_plugins.factors.cycle import CycleFactor
    from jgod_plugins.factors.drive import DriveFactor
    from jgod_plugins.factors.microstructure import MicrostructureFactor
    from jgod_plugins.factors.style import StyleFactor

    return (CycleFactor, StyleFactor, DriveFactor, MicrostructureFactor, CrossMarketFactor)


@hookimpl
def jgod_register_components(register):
    """Register the five built-in factors."""
    for factor in factor_classes():
        register(factor)
