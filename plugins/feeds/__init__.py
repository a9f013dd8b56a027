"""Built-in realtime feed components, intraday factors and the intraday signal engine.

Each component lives in its own module; this module registers them with the kernel.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_feeds(register):
    """Register the replay, Shioaji and Polygon realtime feeds."""
    from jgod_plugins.feeds.polygon import PolygonFeed
    from jgod_plugins.feeds.replay import ReplayFeed
    from jgod_plugins.feeds.shioaji import ShioajiFeed

    register(ReplayFeed)
    register(ShioajiFeed)
    register(PolygonFeed)


@hookimpl
def jgod_register_factors(register):
    """Register the intraday factors F_Stat and F_Exec."""
    from jgod_plugins.feeds.f_exec_live import FExecLive
    from jgod_plugins.feeds.f_stat_live import FStatLive

    register(FStatLive)
    register(FExecLive)


@hookimpl
def jgod_register_engines(register):
    """Register the intraday signal engine."""
    from jgod_plugins.feeds.intraday_signal import IntradaySignal

    register(IntradaySignal)
