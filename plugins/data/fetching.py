"""``jgod data fetch``: run a connector for some symbols and write what it returns.

Per symbol, an incremental fetch starts the day after the last stored row (``--full`` refetches
the whole range); upserts make a re-run write nothing twice. All responses are received and
validated first and then written in one transaction with a load-log entry (intraday Parquet
days are staged and renamed into place after it commits), so a failure of any request leaves
the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.progress import Progress
from sqlalchemy import func, select

from jgod_core.errors import JGodError
from jgod_core.plugin.components import ComponentKind
from jgod_core.storage import models
from jgod_plugins.data.connector import Connector
from jgod_plugins.data.http import FetchError
from jgod_plugins.tw_market import timing


@dataclass(frozen=True)
class FetchLine:
    """What happened for one symbol."""

    symbol: str
    requested: str
    received: int
    written: int


def connector_class(source: str) -> type[Connector]:
    """The registered data source called ``source`` (must be a provider connector)."""
    from jgod_core.plugin.manager import load_kernel

    registry = load_kernel().registry
    entry = registry.get(ComponentKind.DATA_SOURCE, source)
    if entry is None or not issubclass(entry.cls, Connector):
        names = [n for n in registry.names(ComponentKind.DATA_SOURCE)
                 if issubclass(registry.get(ComponentKind.DATA_SOURCE, n).cls, Connector)]
        raise JGodError(f"unknown data source {source!r} for fetch; available: {', '.join(sorted(names))}")
    return entry.cls


def make_connector(source: str, params: dict[str, Any] | None = None) -> Connector:
    """The connector ``source`` with ``params`` overrides (e.g. ``base_url`` of a local mirror)."""
    from pydantic import ValidationError

    cls = connector_class(source)
    params = dict(params or {})
    if "base_url" in params and "base_url" not in cls.Params.model_fields:
        raise JGodError(f"{source} is not an HTTP source: it takes no base URL")
    try:
        return cls(cls.Params(**params))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise JGodError(f"invalid {source} options: {problems}") from None


def last_stored_date(store, connector: Connector, dataset: str, symbol: str) -> dt.date | None:
    """The newest stored date of ``symbol`` in ``dataset`` (trade date for intraday datasets)."""
    spec = connector.datasets[dataset]
    selector = connector.stored_filter(dataset, symbol)
    if spec.intraday_kind is not None:
        days = store.intraday.days(spec.intraday_kind, selector[spec.key_column])
        return days[-1] if days else None
    t = spec.table.__table__
    query = select(func.max(t.c[spec.date_column])).where(*[t.c[column] == value for column, value in selector.items()])
    with store.engine.connect() as conn:
        return conn.execute(query).scalar()


def check_known_symbol(store, connector: Connector, dataset: str, symbol: str) -> None:
    """Fail fast on a stock code the security master (when loaded) does not know."""
    if connector.datasets[dataset].symbol_kind != "stock":
        return
    master = models.Security.__table__
    with store.engine.connect() as conn:
        has_master = conn.execute(select(master.c.symbol).limit(1)).first() is not None
        known = conn.execute(select(master.c.symbol).where(master.c.symbol == symbol)).first() is not None
    if has_master and not known:
        raise FetchError(connector.name, dataset, symbol, "not in the TWSE/TPEx security master (unknown symbol)")


def fetch_into_store(store, source: str, dataset: str, symbols: str | list[str], start: dt.date,
                     end: dt.date | None = None, incremental: bool = True, progress: bool = True,
                     params: dict[str, Any] | None = None, connector: Connector | None = None) -> list[FetchLine]:
    """Fetch ``dataset`` of ``source`` for ``symbols`` into ``store``; one line per symbol."""
    if connector is None:
        connector = make_connector(source, params)
    if dataset not in connector.datasets:
        raise JGodError(f"{connector.name} has no dataset {dataset!r}; available: {', '.join(sorted(connector.datasets))}")
    end = end or dt.date.today()
    if end < start:
        raise JGodError(f"--end {end} is before --start {start}")
    raw_symbols = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    wanted = list(dict.fromkeys(connector.normalise_symbol(dataset, s) for s in raw_symbols if str(s).strip()))
    if not wanted:
        raise JGodError("no symbols given")
    for symbol in wanted:
        check_known_symbol(store, connector, dataset, symbol)

    started = timing.utc_now()
    plan: list[tuple[str, dt.date]] = []
    for symbol in wanted:
        last = last_stored_date(store, connector, dataset, symbol) if incremental else None
        plan.append((symbol, max(start, connector.resume_from(dataset, last)) if last else start))

    frames: dict[str, pd.DataFrame] = {}
    with connector.client() as client, Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task(f"{connector.name} {dataset}", total=len(plan))
        client.describe = lambda text: bar.update(task, description=text)
        for symbol, first in plan:
            bar.update(task, description=f"{connector.name} {dataset} {symbol} {first}..{end}")
            frames[symbol] = connector.fetch(client, dataset, symbol, first, end) if first <= end else pd.DataFrame()
            bar.advance(task)

    lines: list[FetchLine] = []
    spec = connector.datasets[dataset]
    with store.intraday.transaction() as intraday, store.transaction() as conn:
        total = 0
        for symbol, first in plan:
            frame = frames[symbol]
            if frame.empty:
                written = 0
            elif spec.intraday_kind is not None:
                written = intraday.write(spec.intraday_kind, frame)
            else:
                written = store.upsert(spec.table, frame, conn=conn)
            total += written
            requested = f"{first}..{end}" if first <= end else "up to date"
            lines.append(FetchLine(symbol, requested, len(frame), written))
        store.record_load(conn, connector.name, dataset, total, started, symbols=wanted)
    return lines
