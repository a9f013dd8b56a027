"""``jgod data``: load the embedded sample, show what the store holds, fetch from a provider."""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

data_app = typer.Typer(help="Load, inspect and fetch market data into the J-GOD store.", no_args_is_help=True)
load_app = typer.Typer(help="Load a bundled data set into the store.", no_args_is_help=True)
data_app.add_typer(load_app, name="load")
console = Console(width=None if Console().is_terminal else 160)

STORE_HELP = "SQLAlchemy URL of the store (default: JGOD_DB_URL, else SQLite in the user data dir)."


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the main CLI."""
    app.add_typer(data_app, name="data")


def _open(url: Optional[str]):
    from jgod_core.storage import open_store

    return open_store(url)


@load_app.command("sample")
def load_sample(store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP)) -> None:
    """Load the embedded real sample (idempotent: a reload writes only changed rows)."""
    opened = _open(store)
    started = time.perf_counter()
    written = opened.load_sample(progress=True)
    seconds = time.perf_counter() - started
    table = Table()
    table.add_column("dataset")
    table.add_column("rows written", justify="right")
    for name, rows in written.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"sample loaded into {opened.url} in {seconds:.1f} s", soft_wrap=True)  # the URL stays whole


@data_app.command("status")
def status(
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Show only this dataset."),
    gaps: bool = typer.Option(True, "--gaps/--no-gaps", help="Compare Taiwan-dated data with the XTAI calendar."),
) -> None:
    """Rows, first/last date, gaps against the TWSE trading calendar and last update per dataset and key."""
    from jgod_core.data.status import data_status

    opened = _open(store)
    lines = [s for s in data_status(opened, with_gaps=gaps) if dataset is None or s.dataset == dataset]
    if not lines:
        console.print(f"the store at {opened.url} is empty{' for ' + dataset if dataset else ''}: "
                      "run `jgod data load sample` or `jgod data fetch`")
        return
    table = Table(title=f"J-GOD store {opened.url}")
    for col, justify in (("dataset", "left"), ("key", "left"), ("rows", "right"), ("first", "left"),
                         ("last", "left"), ("gaps vs XTAI", "right"), ("gap days", "left"),
                         ("last update (UTC)", "left")):
        table.add_column(col, justify=justify)
    for s in lines:
        shown = ", ".join(str(d) for d in s.gap_days[:3]) + (" …" if len(s.gap_days) > 3 else "")
        table.add_row(s.dataset, s.key, f"{s.rows:,}", _when(s.first), _when(s.last),
                      "-" if s.gaps is None else str(s.gaps), shown,
                      s.last_update.strftime("%Y-%m-%d %H:%M:%S") if s.last_update else "-")
    console.print(table)


def _when(value) -> str:
    """A date as ISO; an intraday event time (UTC) to the millisecond with a Z."""
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    return str(value)


@data_app.command("fetch")
def fetch(
    source: str = typer.Option(..., "--source", help="finmind | polygon | shioaji"),
    dataset: str = typer.Option(..., "--dataset", help="Dataset of the source, e.g. TaiwanStockPrice."),
    symbols: str = typer.Option(..., "--symbols", help="Comma-separated codes or tickers, e.g. 2330,0050."),
    start: dt.datetime = typer.Option(..., "--start", formats=["%Y-%m-%d"], help="First date (YYYY-MM-DD)."),
    end: Optional[dt.datetime] = typer.Option(None, "--end", formats=["%Y-%m-%d"], help="Last date (default: today)."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    full: bool = typer.Option(False, "--full", help="Refetch the whole range instead of only what is missing."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Provider API base URL (a local mirror or test "
                                                                    "server), e.g. http://127.0.0.1:8080/api/v4."),
) -> None:
    """Fetch a dataset from a provider into the store, incrementally and idempotently."""
    from jgod_core.errors import JGodError
    from jgod_plugins.data.fetching import fetch_into_store

    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise JGodError(f"--base-url {base_url!r} must start with http:// or https://")
    if source == "finmind":
        from jgod_plugins.adapters.finmind.data import TOKEN_ENV

        if not os.environ.get(TOKEN_ENV):
            Console(stderr=True).print(f"note: {TOKEN_ENV} is not set: FinMind is queried anonymously, with its "
                                       f"smaller quota (set {TOKEN_ENV}=... for the token quota)")
    opened = _open(store)
    report = fetch_into_store(opened, source, dataset, symbols, start.date(), end.date() if end else None,
                              incremental=not full, progress=True,
                              params={"base_url": base_url.rstrip("/")} if base_url else None)
    table = Table(title=f"{source} {dataset} → {opened.url}")
    for col in ("symbol", "requested", "rows received", "rows written"):
        table.add_column(col)
    for line in report:
        table.add_row(line.symbol, line.requested, f"{line.received:,}", f"{line.written:,}")
    console.print(table)
