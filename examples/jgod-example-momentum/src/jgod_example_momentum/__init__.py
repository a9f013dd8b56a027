"""J-GOD plugin ``example_momentum``: registers the :class:`PriceMomentum` factor."""

from jgod_core import hookimpl
from jgod_example_momentum.momentum import PriceMomentum, PriceMomentumParams

JGOD_API_VERSION = "1"  # the J-GOD plugin API this package was written against

__all__ = ["JGOD_API_VERSION", "PriceMomentum", "PriceMomentumParams", "jgod_register_components"]


@hookimpl
def jgod_register_components(register):
    """Register this package's factors with the J-GOD kernel."""
    register(PriceMomentum)
