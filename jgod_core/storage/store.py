"""The J-GOD store: one SQLAlchemy database (SQLite by default, PostgreSQL supported).

``open_store()`` resolves the URL (argument → ``JGOD_DB_URL`` → SQLite file ``jgod.sqlite`` in
``JGOD_DATA_DIR`` or the per-user data directory), creates the database on first use and
upgrades its schema to the newest Alembic revision. Every write goes through
:meth:`Store.transaction`, so a failed load leaves the store as it was.

Timestamps are naive UTC. A naive ``as_of`` given to a reader is wall-clock time of the venue
(:func:`jgod_core.venue.default_venue`, Asia/Taipei for ``tw``). The embedded sample is loaded
by the ``sample`` data source the plugins register, never imported from a plugin.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Sequence

import pandas as pd
import platformdirs
from sqlalchemy import Boolean, Date, DateTime, Table, create_engine, event, func, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from jgod_core.errors import JGodError
from jgod_core.storage import migrate
from jgod_core.storage.models import Base, DailyBar, LoadRecord, MarketDaily, Security
from jgod_core.storage.upsert import upsert
from jgod_core.timeutil import to_utc_naive, utc_now

ENV_URL = "JGOD_DB_URL"
ENV_DATA_DIR = "JGOD_DATA_DIR"
SQLITE_FILE = "jgod.sqlite"
SAMPLE_SOURCE = "sample"  # the data source that loads the embedded sample


class StoreError(JGodError):
    """The store cannot be opened or a load failed (the store is left unchanged)."""


def data_dir() -> Path:
    """Directory of the embedded store: ``JGOD_DATA_DIR`` or the per-user data directory."""
    return Path(os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir("jgod"))


def default_url() -> str:
    """``JGOD_DB_URL`` or the SQLite file in :func:`data_dir`."""
    env = os.environ.get(ENV_URL)
    if env:
        return env
    return f"sqlite:///{data_dir() / SQLITE_FILE}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for ``url``; for SQLite the parent directory is created, for PostgreSQL
    ``schema`` (if given) becomes the search path."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
        try:
            return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
        except (ImportError, ArgumentError) as exc:  # the driver package is absent or unknown
            raise StoreError(f"cannot use {parsed.drivername!r} for {parsed.render_as_string()!r}: {exc}; install "
                             "the PostgreSQL extra (python -m pip install -e '.[postgres]') and write "
                             "postgresql+psycopg://…") from None
    raise StoreError(f"unsupported database {backend!r} in {url!r}: use sqlite:/// or postgresql+psycopg://")


def intraday_root(engine: Engine, schema: str | None = None) -> Path:
    """Directory of the Parquet intraday store that belongs to the database of ``engine``.

    SQLite file ``<dir>/<name>.sqlite`` → ``<dir>/<name>.intraday/`` (beside it); any other
    database → ``<data dir>/intraday/<backend>_<host>_<port>_<database>_<schema>/``, so two
    databases (or PostgreSQL schemas) never share tick files.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            db = Path(url.database).expanduser()
            return db.parent / f"{db.stem}.intraday"
        import tempfile

        return Path(tempfile.mkdtemp(prefix="jgod-intraday-"))  # an in-memory database gets throw-away files
    parts = [url.get_backend_name(), url.host or "local", str(url.port or ""), url.database or "", schema or "public"]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", "_".join(parts))
    return data_dir() / "intraday" / slug


class Store:
    """Access to the J-GOD database: transactions, bulk upserts and point-in-time readers.

    Intraday ticks and books live in :attr:`intraday`, a Parquet store beside the database.
    """

    def __init__(self, engine: Engine, schema: str | None = None, intraday_dir: Path | None = None) -> None:
        self.engine = engine
        self.schema = schema
        self._intraday_dir = Path(intraday_dir) if intraday_dir is not None else None
        self._intraday = None

    @property
    def intraday(self):
        """The :class:`~jgod_core.storage.intraday.IntradayStore` of this database."""
        if self._intraday is None:
            from jgod_core.storage.intraday import IntradayStore

            self._intraday = IntradayStore(self._intraday_dir or intraday_root(self.engine, self.schema))
        return self._intraday

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """The SQL dialect name (``sqlite``, ``postgresql``)."""
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        with self.engine.begin() as conn:
            yield conn

    def upsert(self, table: Table | type[Base], rows: pd.DataFrame | Sequence[dict], conn: Connection | None = None) -> int:
        """Bulk insert-or-update ``rows`` on the table's natural key; returns rows inserted or changed."""
        table = table.__table__ if isinstance(table, type) else table
        if conn is not None:
            return upsert(conn, table, rows)
        with self.transaction() as own:
            return upsert(own, table, rows)

    def record_load(self, conn: Connection, source: str, dataset: str, rows: int, started_at: dt.datetime,
                    symbols: Sequence[str] | None = None, status: str = "ok", message: str | None = None) -> None:
        """Append one entry to the load log (inside the load's transaction)."""
        conn.execute(
            LoadRecord.__table__.insert(),
            {
                "source": source, "dataset": dataset, "symbols": ",".join(symbols) if symbols else None,
                "started_at": started_at, "finished_at": utc_now(), "status": status, "rows": rows, "message": message,
            },
        )

    # -- sample data ------------------------------------------------------------------------

    def has_daily_bars(self) -> bool:
        """True when the store holds at least one daily bar."""
        with self.engine.connect() as conn:
            return conn.execute(select(DailyBar.id).limit(1)).first() is not None

    def load_sample(self, progress: bool = True) -> dict[str, int]:
        """Load (or reload, idempotently) the embedded real sample through the installed ``sample``
        data source; returns rows written per dataset."""
        return _sample_source().load(self, progress=progress)

    def ensure_sample_loaded(self, progress: bool = True) -> bool:
        """Load the embedded sample when the store has no daily bars; True if it loaded."""
        if self.has_daily_bars():
            return False
        self.load_sample(progress=progress)
        return True

    # -- reading (point in time) --------------------------------------------------------------

    def read_bars(self, symbols: Sequence[str] | None = None, start: dt.date | None = None,
                  end: dt.date | None = None, as_of: dt.datetime | None = None,
                  columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Daily bars as long rows ``date, symbol, open, high, low, close, volume, …`` known at ``as_of``
        (``columns``: only these besides ``date, symbol``)."""
        t = DailyBar.__table__
        names = ["open", "high", "low", "close", "volume", "trading_value", "trades", "halted", "adj_factor",
                 "available_at"] if columns is None else [c for c in columns if c not in ("date", "symbol")]
        query = select(t.c.date, t.c.symbol, *[t.c[name] for name in names])
        query = _window(query, t.c.date, t.c.available_at, start, end, as_of)
        if symbols is not None:
            query = query.where(t.c.symbol.in_(list(symbols)))
        frame = self._frame(query.order_by(t.c.symbol, t.c.date))
        if "halted" in frame:
            frame["halted"] = frame["halted"].astype(bool)
        return frame

    def read_market(self, instruments: Sequence[str] | None = None, session: str | None = "regular",
                    start: dt.date | None = None, end: dt.date | None = None,
                    as_of: dt.datetime | None = None) -> pd.DataFrame:
        """Market-level daily rows (index, futures, US series, FX) known at ``as_of``."""
        t = MarketDaily.__table__
        query = select(t.c.instrument, t.c.session, t.c.date, t.c.contract, t.c.open, t.c.high, t.c.low, t.c.close,
                       t.c.volume, t.c.settlement, t.c.open_interest, t.c.available_at)
        query = _window(query, t.c.date, t.c.available_at, start, end, as_of)
        if instruments is not None:
            query = query.where(t.c.instrument.in_(list(instruments)))
        if session is not None:
            query = query.where(t.c.session == session)
        return self._frame(query.order_by(t.c.instrument, t.c.session, t.c.date))

    def read_securities(self, symbols: Sequence[str] | None = None) -> pd.DataFrame:
        """Security master rows indexed by symbol."""
        t = Security.__table__
        query = select(t.c.symbol, t.c.name, t.c.security_type, t.c.market, t.c.industry, t.c.isin, t.c.listed_on)
        if symbols is not None:
            query = query.where(t.c.symbol.in_(list(symbols)))
        return self._frame(query).set_index("symbol")

    def read_table(self, table: Table | type[Base], symbols: Sequence[str] | None = None,
                   start: dt.date | None = None, end: dt.date | None = None,
                   as_of: dt.datetime | None = None, date_column: str = "date") -> pd.DataFrame:
        """Rows of any dated table with ``available_at`` (flows, margin, broker branches, revenue …)."""
        t = table.__table__ if isinstance(table, type) else table
        query = _window(select(t), t.c[date_column], t.c.available_at, start, end, as_of)
        if symbols is not None:
            query = query.where(t.c.symbol.in_(list(symbols)))
        return self._frame(query.order_by(t.c.symbol, t.c[date_column]))

    def count(self, table: Table | type[Base]) -> int:
        """Rows in ``table`` (a Table or a model class)."""
        t = table.__table__ if isinstance(table, type) else table
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())

    def _frame(self, query) -> pd.DataFrame:
        """Rows of ``query`` as a frame. Rows come straight from the DB-API cursor (SQLAlchemy's
        per-row type processing is the bulk of a large read) and dates, times and booleans are
        converted column-wise: dates become ``datetime.date``, timestamps ``datetime64``."""
        with self.engine.connect() as conn:
            result = conn.execute(query)
            columns = list(result.keys())
            frame = pd.DataFrame.from_records(result.cursor.fetchall(), columns=columns, coerce_float=True)
        for column, selected in zip(columns, query.selected_columns):
            kind = selected.type
            if frame.empty or frame[column].isna().all():
                continue
            if isinstance(kind, DateTime):
                frame[column] = pd.to_datetime(frame[column], format="ISO8601")
            elif isinstance(kind, Date):
                frame[column] = pd.to_datetime(frame[column], format="ISO8601").dt.date
            elif isinstance(kind, Boolean) and not frame[column].isna().any():
                frame[column] = frame[column].astype(bool)
        return frame

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()


def _window(query, date_col, available_col, start, end, as_of):
    if start is not None:
        query = query.where(date_col >= start)
    if end is not None:
        query = query.where(date_col <= end)
    if as_of is not None:
        query = query.where(available_col <= _as_utc(as_of))
    return query


def _as_utc(as_of: dt.datetime) -> dt.datetime:
    """``as_of`` as naive UTC; a naive one is the venue's wall-clock time."""
    if as_of.tzinfo is not None:
        return to_utc_naive(as_of)
    from jgod_core.venue import default_venue

    return to_utc_naive(as_of, default_venue().timezone)


@lru_cache(maxsize=1)
def _sample_source_class() -> type:
    from jgod_core.plugin.components import ComponentKind
    from jgod_core.plugin.manager import load_kernel

    entry = load_kernel().registry.get(ComponentKind.DATA_SOURCE, SAMPLE_SOURCE)
    if entry is None or not callable(getattr(entry.cls, "load", None)):
        raise StoreError(f"no data source {SAMPLE_SOURCE!r} with load(store, progress) is installed (the built-in "
                         "data plugin, entry point builtin_data, provides it; is it on the plugin block-list?)")
    return entry.cls


def _sample_source():
    """An instance of the installed ``sample`` data source (resolved once through the plugin registry)."""
    return _sample_source_class()()


def open_store(url: str | None = None, *, schema: str | None = None, upgrade: bool = True,
               intraday_dir: Path | None = None) -> Store:
    """Open (creating on first use) the store at ``url`` and upgrade its schema to the newest revision.

    ``intraday_dir`` overrides where the Parquet intraday files go (default: :func:`intraday_root`).
    """
    engine = make_engine(url or default_url(), schema=schema)
    if upgrade:
        try:
            if migrate.current_revision(engine) != migrate.head_revision():
                migrate.upgrade(engine)
        except OperationalError as exc:
            raise StoreError(f"cannot open the store at {engine.url.render_as_string(hide_password=True)}: {exc.orig}") from None
    return Store(engine, schema=schema, intraday_dir=intraday_dir)
