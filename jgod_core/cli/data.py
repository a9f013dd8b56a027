"""``jgod data``: load the embedded sample and show what the store holds.

Plugins add commands to the group :data:`data_app` through ``jgod_register_commands`` (the data
plugin adds ``jgod data fetch``).
"""

from __future__ import annotations

import datetime as dt
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
