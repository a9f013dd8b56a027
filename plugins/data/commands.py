"""``jgod data fetch``: the data plugin's command, added to the kernel's ``jgod data`` group through
``jgod_register_commands``.

It runs a provider connector (a registered data source with ``fetch``) for some symbols and writes
what it returns into the store (:func:`jgod_plugins.data.fetching.fetch_into_store`).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from jgod_core.cli.data import STORE_HELP


def register(app: typer.Typer) -> None:
    """Add ``fetch`` to the kernel's ``jgod data`` group (``app`` is the root application)."""
    from jgod_core.cli.data import data_app

    data_app.command("fetch")(fetch)


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
    from jgod_core.cli.data import console
    from jgod_core.errors import JGodError
    from jgod_core.storage import open_store
    from jgod_plugins.data.fetching import fetch_into_store

    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise JGodError(f"--base-url {base_url!r} must start with http:// or https://")
    if source == "finmind":
        from jgod_plugins.adapters.finmind.data import TOKEN_ENV

        if not os.environ.get(TOKEN_ENV):
            Console(stderr=True).print(f"note: {TOKEN_ENV} is not set: FinMind is queried anonymously, with its "
                                       f"smaller quota (set {TOKEN_ENV}=... for the token quota)")
    opened = open_store(store)
    report = fetch_into_store(opened, source, dataset, symbols, start.date(), end.date() if end else None,
                              incremental=not full, progress=True,
                              params={"base_url": base_url.rstrip("/")} if base_url else None)
    table = Table(title=f"{source} {dataset} → {opened.url}")
    for col in ("symbol", "requested", "rows received", "rows written"):
        table.add_column(col)
    for line in report:
        table.add_row(line.symbol, line.requested, f"{line.received:,}", f"{line.written:,}")
    console.print(table)
