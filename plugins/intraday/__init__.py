"""The intraday half of the five factors: the fused numba processor and its kernels, the intraday
F_Stat and F_Exec factors, and the intraday signal engine that turns them into orders.

Everything that knows what F_Stat and F_Exec compute lives here; the kernel's ``realtime``
package only moves events (clock, feeds, the loop).
"""

from jgod_core import hookimpl


@hookimpl
def jgod_register_components(register):
    """Register the intraday factors F_Stat and F_Exec and the intraday signal engine."""
    from jgod_plugins.intraday.f_exec_live import FExecLive
    from jgod_plugins.intraday.f_stat_live import FStatLive

    register(FStatLive)
    register(FExecLive)
    from jgod_plugins.intraday.signal import IntradaySignal

    register(IntradaySignal)
