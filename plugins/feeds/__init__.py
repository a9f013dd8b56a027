"""Built-in realtime feeds that need no vendor: the recorded-session replay.

Vendor feeds live in ``adapters/``; the intraday factors and signal in ``intraday/``.
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the replay feed."""
    from jgod_plugins.feeds.replay import ReplayFeed

    register(ReplayFeed)
