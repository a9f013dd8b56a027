"""Storage benchmark on the real embedded sample, SQLite and PostgreSQL, against plain pandas.

Per back end, in one run:

- **sample load**: ``Store.load_sample`` into an empty store (CSV parsing, one transaction of
  bulk upserts into the database, plus the intraday recordings into Parquet) vs the baseline
  "the same parsed frames through ``DataFrame.to_sql``" (the sample readers' parse time added,
  so both sides start from the CSV files; to_sql writes no Parquet, checks no key);
- **reload**: the same load again (idempotent: nothing changes, 0 rows written) vs the baseline
  ``to_sql(if_exists="replace")`` of the same frames (the naive way to reload);
- **load_panel**: the 51-stock 2015–2025 point-in-time panel (OHLCV, halts, TAIEX/TX and the US
  series, attributes) vs the baseline ``read_sql`` of the ``to_sql`` daily table + ``pivot`` of the
  five price/volume fields (no as-of filter, no market series): best of ``--repeat``;
- **intraday read** (SQLite run only; Parquet does not depend on the database): the Binance
  5-level books + trades from the Parquet store vs ``pandas.read_csv`` of the shipped CSV.gz files.

Ratios are J-GOD time / baseline time (< 1: J-GOD is faster). PostgreSQL comes from
``JGOD_TEST_POSTGRES_URL`` (default the local trust-auth server); each run uses fresh schemas and
drops them. Run: ``python benchmarks/bench_storage.py [--repeat 3] [--skip-postgres]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from jgod_core.data import load_panel
from jgod_core.storage import open_store
from jgod_core.storage.store import make_engine
from jgod_plugins.data import recordings
from jgod_plugins.data.sample import DATASETS
from jgod_plugins.tw_market.timing import utc_now

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def parse_sample() -> dict[str, pd.DataFrame]:
    now = utc_now()
    return {ds.table.__tablename__: ds.read(now) for ds in DATASETS}


def baseline_write(engine, frames: dict[str, pd.DataFrame]) -> None:
    with engine.begin() as conn:
        for name, frame in frames.items():
            frame.to_sql(f"baseline_{name}", conn, if_exists="replace", index=False, chunksize=20_000)


def baseline_panel(engine) -> dict:
    bars = pd.read_sql(text("SELECT symbol, date, open, high, low, close, volume FROM baseline_daily_bars"), engine)
    return {field: bars.pivot(index="symbol", columns="date", values=field).to_numpy(float)
            for field in ("open", "high", "low", "close", "volume")}


def bench_backend(label: str, url: str, schema: str | None, tmp: Path, repeat: int) -> list[tuple]:
    store = open_store(url, schema=schema, intraday_dir=tmp / f"{label}-intraday")
    baseline_engine = make_engine(url, schema=schema)
    rows = []

    load_s, written = timed(lambda: store.load_sample(progress=False))
    parse_s, frames = timed(parse_sample)
    to_sql_s, _ = timed(lambda: baseline_write(baseline_engine, frames))
    rows.append((label, "sample load", load_s, parse_s + to_sql_s, f"{sum(written.values()):,} rows written"))

    reload_s, rewritten = timed(lambda: store.load_sample(progress=False))
    replace_s, _ = timed(lambda: baseline_write(baseline_engine, frames))
    rows.append((label, "reload (idempotent)", reload_s, parse_s + replace_s,
                 f"{sum(rewritten.values()):,} rows written"))

    panel_s, panel = timed(lambda: load_panel(store), repeat)
    pivot_s, _ = timed(lambda: baseline_panel(baseline_engine), repeat)
    rows.append((label, "load_panel (51 × 2,531)", panel_s, pivot_s, f"{len(panel.symbols)} × {len(panel.dates)}"))

    if label == "sqlite":
        books_s, books = timed(lambda: (store.intraday.read_books("btcusdt"), store.intraday.read_ticks("btcusdt")),
                               repeat)
        folder = recordings.intraday_dir() / recordings.BINANCE_DIR
        csv_s, _ = timed(lambda: (pd.read_csv(folder / "spot_btcusdt_book5.csv.gz"),
                                  pd.read_csv(folder / "spot_btcusdt_trades.csv.gz")), repeat)
        rows.append((label, "intraday read (books+trades)", books_s, csv_s,
                     f"{len(books[0]):,} books + {len(books[1]):,} trades"))
    store.dispose()
    baseline_engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Best of N for the read benchmarks.")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only.")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="jgod-bench-storage-") as tmp:
        tmp_path = Path(tmp)
        rows += bench_backend("sqlite", f"sqlite:///{tmp_path / 'jgod.sqlite'}", None, tmp_path, args.repeat)
        if not args.skip_postgres:
            pg_url = os.environ.get("JGOD_TEST_POSTGRES_URL", DEFAULT_PG)
            schema = f"jgod_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(pg_url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                rows += bench_backend("postgresql", pg_url, schema, tmp_path, args.repeat)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()

    table = Table(title="J-GOD storage vs plain pandas (real sample; ratio = J-GOD / baseline)")
    for column, justify in (("back end", "left"), ("operation", "left"), ("J-GOD s", "right"),
                            ("baseline s", "right"), ("ratio", "right"), ("note", "left")):
        table.add_column(column, justify=justify)
    for label, what, ours, base, note in rows:
        table.add_row(label, what, f"{ours:.3f}", f"{base:.3f}", f"{ours / base:.2f}", note)
    Console(width=160).print(table)


if __name__ == "__main__":
    main()
