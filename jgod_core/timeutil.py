"""Time helpers every subsystem shares: naive-UTC instants and wall-clock times in a given zone.

The store keeps every timestamp as naive UTC. A naive input that means a local wall-clock time
is converted with an explicit IANA zone (a venue's :attr:`~jgod_core.plugin.components.Venue.timezone`);
nothing here assumes a particular market.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

END_OF_DAY = dt.time(23, 59, 59)


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA name (cached)."""
    return ZoneInfo(name)


def utc_now() -> dt.datetime:
    """The current time as naive UTC."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def to_utc_naive(moment: dt.datetime, local_tz: str | dt.tzinfo | None = None) -> dt.datetime:
    """``moment`` as naive UTC. An aware input is converted; a naive one is read as wall-clock
    time in ``local_tz`` (an IANA name or a tzinfo), which it then needs."""
    if moment.tzinfo is None:
        if local_tz is None:
            raise ValueError(f"{moment.isoformat()} has no time zone and no local zone was given to read it in")
        moment = moment.replace(tzinfo=zone(local_tz) if isinstance(local_tz, str) else local_tz)
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


def local_stamp(dates, local_time: dt.time, tz: str) -> np.ndarray:
    """Naive UTC instants (``datetime64[ns]``) of ``local_time`` in zone ``tz`` on each of ``dates``
    (daylight-saving aware; a time that does not exist that day shifts forward)."""
    idx = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
    offset = pd.Timedelta(hours=local_time.hour, minutes=local_time.minute, seconds=local_time.second)
    local = (idx + offset).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    return local.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")


def end_of_local_day(day: dt.date, tz: str) -> dt.datetime:
    """Naive UTC instant of 23:59:59 in zone ``tz`` on ``day``: the default as-of time for a date."""
    return to_utc_naive(dt.datetime.combine(day, END_OF_DAY), tz)
