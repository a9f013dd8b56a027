"""The realtime loop: it moves events, it does not compute factors.

``clock`` (wall or virtual time), ``feed`` (the connect/subscribe/resync state machine around a
feed component's transport), ``health`` (staleness and gaps that block symbols), ``live`` (the
asyncio loop), ``session`` (the intraday trading day: events → the pipeline's intraday signal →
the risk engine's one order path), ``signal`` (the :class:`IntradaySignal` base the session asks
for processors, cadence and targets) and ``metrics`` (Prometheus counters). The intraday factor
maths lives in the ``jgod_plugins.intraday`` plugin.
"""
