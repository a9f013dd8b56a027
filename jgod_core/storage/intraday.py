"""Columnar intraday store: ticks, 5-level book snapshots and best bid/offer updates in Parquet.

Beside the database (in the store's own directory, see :func:`intraday_root`), one Parquet
file per dataset, instrument and trade date::

    <root>/<kind>/instrument=<instrument>/date=<YYYY-MM-DD>/part.parquet

- ``kind`` is ``ticks`` (trades), ``books`` (5-level snapshots) or ``bbo`` (best bid/offer).
- Times are int64 nanoseconds since the Unix epoch (UTC): ``exchange_ns`` (the exchange's stamp,
  the one clock every feed is aligned on) and ``receive_ns`` (local arrival; null when the
  source did not record it). ``bbo`` rows may lack ``exchange_ns`` (Binance's bookTicker has no
  event time); their point-in-time clock is then the receive time, which is never earlier.
- ``seq`` is the source's sequence number (trade id, book update id) or, for files without one,
  the row's position in that trade date's file. ``(exchange_ns, seq)`` (``(receive_ns, seq)``
  for bbo) is the row key: loading the same day twice keeps one copy.
- A write merges the new rows into the day's file and replaces it atomically (temp file in the
  same directory + ``os.replace``); :meth:`IntradayStore.transaction` stages several days and
  renames them only when the block succeeds, so a failed load never leaves half a day.
- Reads take ``as_of``: no row stamped (exchange time) after it is returned.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jgod_core.errors import JGodError
from jgod_core.storage.files import StagedFiles

BOOK_LEVELS = 5
FILE_NAME = "part.parquet"
_INSTRUMENT = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,31}$")


class IntradayStoreError(JGodError):
    """An intraday write or read was refused (names the dataset, instrument and reason)."""


_COMMON_HEAD = [pa.field("exchange_ns", pa.int64()), pa.field("receive_ns", pa.int64()), pa.field("seq", pa.int64())]


@dataclass(frozen=True)
class IntradayKind:
    """One intraday dataset: its Parquet schema, row key and point-in-time clock."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    exchange_time_required: bool = True

    @property
    def columns(self) -> list[str]:
        return self.schema.names


KINDS: dict[str, IntradayKind] = {
    "ticks": IntradayKind("ticks", pa.schema([
        *_COMMON_HEAD,
        pa.field("price", pa.float64()), pa.field("size", pa.float64()),
        pa.field("side", pa.int8()),  # aggressor: +1 buy, -1 sell, 0 unknown
        pa.field("bid_px", pa.float64()), pa.field("bid_qty", pa.float64()),  # best quote at the trade, if sent
        pa.field("ask_px", pa.float64()), pa.field("ask_qty", pa.float64()),
        pa.field("contract", pa.string()), pa.field("auction", pa.bool_()), pa.field("source", pa.string()),
    ]), ("exchange_ns", "seq")),
    "books": IntradayKind("books", pa.schema([
        *_COMMON_HEAD, pa.field("first_seq", pa.int64()),
        *[pa.field(f"{side}_{what}_{k}", pa.float64())
          for side, what in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
          for k in range(1, BOOK_LEVELS + 1)],
        pa.field("source", pa.string()),
    ]), ("exchange_ns", "seq")),
    "bbo": IntradayKind("bbo", pa.schema([
        *_COMMON_HEAD,
        pa.field("bid_px", pa.float64()), pa.field("bid_qty", pa.float64()),
        pa.field("ask_px", pa.float64()), pa.field("ask_qty", pa.float64()), pa.field("source", pa.string()),
    ]), ("receive_ns", "seq"), exchange_time_required=False),
}
BOOK_COLUMNS = tuple(f"{side}_{what}_{k}" for side, what in (("bid", "px"), ("bid", "qty"), ("ask", "px"), ("ask", "qty"))
                     for k in range(1, BOOK_LEVELS + 1))


def to_ns(moment: dt.datetime | pd.Timestamp | int | np.integer) -> int:
    """Epoch nanoseconds of ``moment``; a naive datetime is read as Asia/Taipei local time."""
    if isinstance(moment, (int, np.integer)):
        return int(moment)
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("Asia/Taipei")
    return int(stamp.value)


@dataclass(frozen=True)
class PartitionStatus:
    """What one instrument's dataset holds: rows, first/last exchange time, days, last write."""

    kind: str
    instrument: str
    rows: int
    days: int
    first_ns: int | None
    last_ns: int | None
    last_update: dt.datetime


class IntradayStore:
    """The Parquet intraday store rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"IntradayStore({str(self.root)!r})"

    # -- layout ---------------------------------------------------------------------------------

    def path(self, kind: str, instrument: str, day: dt.date) -> Path:
        return self.root / kind / f"instrument={instrument}" / f"date={day.isoformat()}" / FILE_NAME

    def instruments(self, kind: str) -> list[str]:
        folder = self.root / _kind(kind).name
        if not folder.is_dir():
            return []
        return sorted(p.name.split("=", 1)[1] for p in folder.iterdir() if p.name.startswith("instrument="))

    def days(self, kind: str, instrument: str) -> list[dt.date]:
        folder = self.root / _kind(kind).name / f"instrument={instrument}"
        if not folder.is_dir():
            return []
        return sorted(dt.date.fromisoformat(p.name.split("=", 1)[1]) for p in folder.iterdir()
                      if p.name.startswith("date=") and (p / FILE_NAME).exists())

    # -- writing -----------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator["IntradayWrite"]:
        """Stage writes; every staged day is renamed into place only if the block succeeds."""
        write = IntradayWrite(self)
        try:
            yield write
        except BaseException:
            write.abort()
            raise
        write.commit()

    def write(self, kind: str, frame: pd.DataFrame) -> int:
        """Merge ``frame`` (with ``instrument`` and ``trade_date`` columns) into the store; rows new or changed."""
        with self.transaction() as write:
            return write.write(kind, frame)

    # -- reading (point in time) --------------------------------------------------------------------

    def read(self, kind: str, instrument: str, start: dt.date | None = None, end: dt.date | None = None,
             as_of: dt.datetime | pd.Timestamp | int | None = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows of ``instrument`` for trade dates in ``[start, end]`` known at ``as_of``, time-ordered.

        Adds a ``trade_date`` column. ``as_of`` compares with ``exchange_ns`` (``receive_ns`` where
        the source sent no exchange time).
        """
        spec = _kind(kind)
        instrument = normalise_instrument(instrument)
        wanted = list(columns) if columns is not None else spec.columns
        unknown = sorted(set(wanted) - set(spec.columns))
        if unknown:
            raise IntradayStoreError(f"{kind} has no column(s) {unknown}; columns: {', '.join(spec.columns)}")
        needed = list(dict.fromkeys([*wanted, "exchange_ns", "receive_ns", "seq"]))
        cutoff = to_ns(as_of) if as_of is not None else None
        parts = []
        for day in self.days(kind, instrument):
            if (start is not None and day < start) or (end is not None and day > end):
                continue
            table = pq.read_table(self.path(kind, instrument, day), columns=needed,
                                  filters=_as_of_filter(spec, cutoff))
            if table.num_rows:
                parts.append(table.append_column("trade_date", pa.array([day] * table.num_rows, pa.date32())))
        if not parts:
            return _empty_frame(spec, wanted)
        frame = pa.concat_tables(parts).to_pandas(types_mapper=_nullable_ints)
        frame["trade_date"] = pd.to_datetime(frame["trade_date"]).dt.date
        clock = frame["exchange_ns"].fillna(frame["receive_ns"]) if not spec.exchange_time_required else frame["exchange_ns"]
        order = np.lexsort((frame["seq"].to_numpy(np.int64), clock.to_numpy(np.int64)))
        frame = frame.iloc[order].reset_index(drop=True)[["trade_date", *wanted]]
        for name in wanted:  # plain numpy dtypes where nothing is null (numba- and numpy-friendly)
            if isinstance(frame[name].dtype, (pd.Int64Dtype, pd.Int8Dtype, pd.BooleanDtype)) and not frame[name].isna().any():
                frame[name] = frame[name].to_numpy(frame[name].dtype.numpy_dtype)
        return frame

    def read_ticks(self, instrument: str, start=None, end=None, as_of=None, columns=None) -> pd.DataFrame:
        """Trades (see :data:`KINDS` ``ticks``) of ``instrument``, time-ordered."""
        return self.read("ticks", instrument, start, end, as_of, columns)

    def read_books(self, instrument: str, start=None, end=None, as_of=None, columns=None) -> pd.DataFrame:
        """5-level book snapshots of ``instrument`` (``bid_px_1 … ask_qty_5``), time-ordered."""
        return self.read("books", instrument, start, end, as_of, columns)

    def read_bbo(self, instrument: str, start=None, end=None, as_of=None, columns=None) -> pd.DataFrame:
        """Best bid/offer updates of ``instrument``, ordered by receive time."""
        return self.read("bbo", instrument, start, end, as_of, columns)

    def status(self) -> list[PartitionStatus]:
        """Per dataset and instrument: rows, days, first/last time, last write (from Parquet metadata)."""
        out = []
        for kind, spec in KINDS.items():
            clock = "exchange_ns" if spec.exchange_time_required else "receive_ns"
            for instrument in self.instruments(kind):
                rows, firsts, lasts, mtimes = 0, [], [], []
                days = self.days(kind, instrument)
                for day in days:
                    path = self.path(kind, instrument, day)
                    meta = pq.read_metadata(path)
                    rows += meta.num_rows
                    index = meta.schema.to_arrow_schema().get_field_index(clock)
                    for g in range(meta.num_row_groups):
                        stats = meta.row_group(g).column(index).statistics
                        if stats is not None and stats.has_min_max:
                            firsts.append(stats.min)
                            lasts.append(stats.max)
                    mtimes.append(path.stat().st_mtime)
                if days:
                    out.append(PartitionStatus(kind, instrument, rows, len(days), min(firsts, default=None),
                                               max(lasts, default=None),
                                               dt.datetime.fromtimestamp(max(mtimes), dt.timezone.utc).replace(tzinfo=None)))
        return out

    def drop(self) -> None:
        """Delete every intraday file of this store (tests and `--full` reloads)."""
        shutil.rmtree(self.root, ignore_errors=True)


class IntradayWrite:
    """Writes staged as temp files beside their targets; :meth:`commit` renames them into place."""

    def __init__(self, store: IntradayStore) -> None:
        self.store = store
        self.staged = StagedFiles()

    def write(self, kind: str, frame: pd.DataFrame) -> int:
        """Stage ``frame``'s rows, merged day by day with what is stored; returns rows new or changed."""
        spec = _kind(kind)
        if frame.empty:
            return 0
        shaped = conform(spec, frame)
        written = 0
        for (instrument, day), rows in shaped.groupby(["instrument", "trade_date"], sort=True):
            written += self._write_day(spec, instrument, day, rows.drop(columns=["instrument", "trade_date"]))
        return written

    def _write_day(self, spec: IntradayKind, instrument: str, day: dt.date, rows: pd.DataFrame) -> int:
        target = self.store.path(spec.name, instrument, day)
        current_path = self.staged.pending(target) or target
        existing = (_read_file(spec, current_path) if current_path.exists()
                    else _empty_frame(spec, spec.columns, with_trade_date=False))
        key = list(spec.key)
        rows = rows.drop_duplicates(subset=key, keep="last")
        unchanged = rows.merge(existing, on=spec.columns, how="inner")
        changed = len(rows) - len(unchanged)
        if changed == 0:
            return 0
        merged = pd.concat([existing[~_key_in(existing, rows, key)], rows], ignore_index=True)
        clock = merged["exchange_ns"].fillna(merged["receive_ns"]) if not spec.exchange_time_required else merged["exchange_ns"]
        merged = merged.iloc[np.lexsort((merged["seq"].to_numpy(np.int64), clock.to_numpy(np.int64)))]
        temp = self.staged.path(target)
        table = pa.Table.from_pandas(merged, schema=spec.schema, preserve_index=False)
        try:
            pq.write_table(table, temp, compression="zstd")
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return changed

    def commit(self) -> None:
        self.staged.commit()

    def abort(self) -> None:
        self.staged.abort()


# -- helpers ------------------------------------------------------------------------------------------


def normalise_instrument(raw: str) -> str:
    """Instrument names are lower-case path-safe strings (``tx``, ``btcusdt``, ``2330``)."""
    name = str(raw).strip().lower()
    if not _INSTRUMENT.match(name):
        raise IntradayStoreError(f"instrument {raw!r} must be 1-32 characters of a-z, 0-9, '_', '.', '-'")
    return name


def _kind(kind: str) -> IntradayKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise IntradayStoreError(f"unknown intraday dataset {kind!r}; one of {', '.join(KINDS)}") from None


def conform(spec: IntradayKind, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the schema's columns (absent optional ones null), validated."""
    missing = [c for c in ("instrument", "trade_date", "seq", *spec.key) if c not in frame]
    if missing:
        raise IntradayStoreError(f"{spec.name} rows lack column(s) {sorted(set(missing))}")
    extra = sorted(set(frame.columns) - set(spec.columns) - {"instrument", "trade_date"})
    if extra:
        raise IntradayStoreError(f"{spec.name} has no column(s) {extra}; columns: {', '.join(spec.columns)}")
    out = pd.DataFrame(index=frame.index)
    out["instrument"] = frame["instrument"].map(normalise_instrument)
    out["trade_date"] = pd.to_datetime(frame["trade_date"]).dt.date
    for field in spec.schema:
        if field.name in frame:
            values = frame[field.name]
        else:
            values = pd.Series(None, index=frame.index, dtype=object)
        out[field.name] = _cast(values, field)
    for column in spec.key:
        if out[column].isna().any():
            raise IntradayStoreError(f"{spec.name} rows with an empty key column {column!r}")
    return out.reset_index(drop=True)


def _cast(values: pd.Series, field: pa.Field) -> pd.Series:
    if pa.types.is_integer(field.type):
        return pd.array(pd.to_numeric(values, errors="raise"), dtype="Int64" if field.type == pa.int64() else "Int8")
    if pa.types.is_floating(field.type):
        return pd.to_numeric(values, errors="raise").astype("float64")
    if pa.types.is_boolean(field.type):
        return values.astype("boolean")
    return values.astype(object).where(values.notna(), None)


def _nullable_ints(arrow_type: pa.DataType):
    if arrow_type == pa.int64():
        return pd.Int64Dtype()
    if arrow_type == pa.int8():
        return pd.Int8Dtype()
    if arrow_type == pa.bool_():
        return pd.BooleanDtype()
    return None


def _read_file(spec: IntradayKind, path: Path) -> pd.DataFrame:
    return pq.read_table(path, schema=spec.schema).to_pandas(types_mapper=_nullable_ints)


def _empty_frame(spec: IntradayKind, columns: Sequence[str], with_trade_date: bool = True) -> pd.DataFrame:
    frame = pa.Table.from_pylist([], schema=spec.schema).to_pandas(types_mapper=_nullable_ints)[list(columns)]
    if with_trade_date:
        frame.insert(0, "trade_date", pd.Series([], dtype=object))
    return frame


def _key_in(frame: pd.DataFrame, other: pd.DataFrame, key: list[str]) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=bool)
    return pd.MultiIndex.from_frame(frame[key]).isin(pd.MultiIndex.from_frame(other[key]))


def _as_of_filter(spec: IntradayKind, cutoff: int | None):
    if cutoff is None:
        return None
    exchange = pc.field("exchange_ns")
    if spec.exchange_time_required:
        return exchange <= cutoff
    # bbo: exchange time when sent, else the (later, so conservative) receive time
    return (exchange <= cutoff) | (exchange.is_null() & (pc.field("receive_ns") <= cutoff))


# -- views for the realtime engine and the paper broker -------------------------------------------------


def event_batch(ticks: pd.DataFrame | None = None, books: pd.DataFrame | None = None, symbol: int = 0):
    """Store rows as a :class:`~jgod_core.data.events.EventBatch` on the exchange clock.

    ``ticks`` become TRADE events (price, size, aggressor side), ``books`` BOOK events (the 20
    level columns in the realtime layout). A missing receive time is taken as the exchange time.
    """
    from jgod_core.data.events import BOOK, TRADE, EventBatch

    parts = []
    for frame, kind in ((books, BOOK), (ticks, TRADE)):  # at equal exchange time a book comes first
        if frame is None or frame.empty:
            continue
        batch = EventBatch.empty(len(frame))
        batch.kind[:] = kind
        batch.symbol[:] = symbol
        batch.exchange_ns[:] = frame["exchange_ns"].to_numpy(np.int64)
        batch.receive_ns[:] = frame["receive_ns"].fillna(frame["exchange_ns"]).to_numpy(np.int64)
        batch.seq[:] = frame["seq"].to_numpy(np.int64)
        if kind == TRADE:
            batch.price[:] = frame["price"].to_numpy(float)
            batch.size[:] = frame["size"].to_numpy(float)
            batch.side[:] = frame["side"].fillna(0).to_numpy(np.int8)
        else:
            batch.book[:] = frame[list(BOOK_COLUMNS)].to_numpy(float)
        parts.append(batch)
    return EventBatch.concat(parts).sorted_by_exchange_time()


def recording_layout(books: pd.DataFrame, ticks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Books and trades in the recorded CSV layout the paper broker's ``BookReplay.from_frames`` reads
    (``recv_ts_ns`` clock, ``qty``, and ``is_buyer_maker`` when every trade's aggressor is known);
    the receive time falls back to exchange time."""
    book_out = books[list(BOOK_COLUMNS)].copy()
    book_out.insert(0, "recv_ts_ns", books["receive_ns"].fillna(books["exchange_ns"]).to_numpy(np.int64))
    trades = pd.DataFrame({
        "recv_ts_ns": ticks["receive_ns"].fillna(ticks["exchange_ns"]).to_numpy(np.int64),
        "price": ticks["price"].to_numpy(float), "qty": ticks["size"].to_numpy(float),
    })
    side = ticks["side"].fillna(0).to_numpy()
    if len(side) and (side != 0).all():  # only when every aggressor is known
        trades["is_buyer_maker"] = side == -1
    return book_out, trades
