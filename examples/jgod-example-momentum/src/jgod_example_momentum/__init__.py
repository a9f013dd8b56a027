"""J-GOD plugin ``example_momentum``: registers the :class:`PriceMomentum` factor."""

from jgod_core import hookimpl

from jgod_example_momentum.momentum import PriceMomentum, PriceMomentumParams

__all__ = ["PriceMomentum", "PriceMomentumParams", "jgod_register_components"]


@hookimpl
def jgod_register_components(register):
    """Register this package's factors with the J-GOD kernel."""
    register(PriceMomentum)
