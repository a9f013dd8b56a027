"""Append-only, hash-chained audit log (order events, risk verdicts, trading-state and weight changes).

Record ``seq`` (1, 2, 3 …) stores ``hash = SHA-256(prev_hash ‖ canonical(seq, ts, kind, payload,
model_version, is_real_trade, prev_hash))`` where ``prev_hash`` is the hash of record ``seq − 1``
(64 zeros for the first). :func:`verify_chain` walks the records in ``seq`` order and names the
first record that does not fit:

- an edited record no longer hashes to its stored hash;
- a deleted record leaves a gap in ``seq`` (the next record sits where the deleted one was);
- an inserted record breaks the sequence or the ``prev_hash`` link at its position;
- swapped records hash differently under their new ``seq``.

Payloads are canonical JSON (sorted keys, no whitespace, UTF-8) so the hash does not depend on
dict order. The log only ever INSERTs; nothing in J-GOD updates or deletes an audit row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Iterable, Sequence

import tenacity
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from jgod_core.storage.models import AuditRecord

GENESIS_HASH = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot put {type(value).__name__} into an audit payload")


def canonical_json(payload: Any) -> str:
    """Deterministic JSON text of ``payload`` (sorted keys, compact, UTF-8 kept)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default,
                      allow_nan=False)


def _ts_text(ts: dt.datetime) -> str:
    return ts.replace(tzinfo=None).isoformat(timespec="microseconds")


def record_hash(seq: int, ts: dt.datetime, kind: str, payload_json: str, model_version: str | None,
                is_real_trade: bool, prev_hash: str) -> str:
    """The chained hash of one record."""
    body = canonical_json([seq, _ts_text(ts), kind, payload_json, model_version or "", bool(is_real_trade), prev_hash])
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One audit record as stored."""

    seq: int
    ts: dt.datetime
    kind: str
    payload_json: str
    model_version: str | None
    is_real_trade: bool
    prev_hash: str
    hash: str

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_json)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :func:`verify_chain`: ``ok``, or the first bad record and why."""

    ok: bool
    records: int
    first_bad_seq: int | None = None
    first_bad_position: int | None = None
    reason: str = ""

    def message(self) -> str:
        if self.ok:
            return f"audit chain ok: {self.records} record(s)"
        return f"audit chain broken at record seq {self.first_bad_seq} (position {self.first_bad_position}): {self.reason}"


def verify_chain(entries: Iterable[AuditEntry]) -> VerifyResult:
    """Check every link of the chain; return the first record that breaks it."""
    prev_hash = GENESIS_HASH
    count = 0
    for position, entry in enumerate(entries, start=1):
        count = position
        if entry.seq != position:
            why = (f"expected seq {position}, found {entry.seq}: a record was deleted before it"
                   if entry.seq > position else
                   f"expected seq {position}, found {entry.seq}: a record was inserted or moved here")
            return VerifyResult(False, position, position, position, why)
        if entry.prev_hash != prev_hash:
            return VerifyResult(False, position, entry.seq, position,
                                "prev_hash does not match the hash of the record before it "
                                "(a record was inserted, deleted or moved here)")
        expected = record_hash(entry.seq, entry.ts, entry.kind, entry.payload_json, entry.model_version,
                               entry.is_real_trade, entry.prev_hash)
        if expected != entry.hash:
            return VerifyResult(False, position, entry.seq, position,
                                f"content does not match its hash (record edited): kind={entry.kind}")
        prev_hash = entry.hash
    return VerifyResult(True, count)


def chain_entries(rows: Sequence[dict[str, Any]], start_hash: str = GENESIS_HASH, start_seq: int = 1) -> list[AuditEntry]:
    """Build chained entries from ``{ts, kind, payload, model_version, is_real_trade}`` rows."""
    out = []
    prev = start_hash
    for offset, row in enumerate(rows):
        seq = start_seq + offset
        payload_json = canonical_json(row["payload"])
        ts = row["ts"].replace(tzinfo=None)
        h = record_hash(seq, ts, row["kind"], payload_json, row.get("model_version"),
                        bool(row.get("is_real_trade", False)), prev)
        out.append(AuditEntry(seq, ts, row["kind"], payload_json, row.get("model_version"),
                              bool(row.get("is_real_trade", False)), prev, h))
        prev = h
    return out


def retry_on_conflict(write: Callable[[], Any], attempts: int = 20) -> Any:
    """Run ``write`` (one whole transaction) again when another writer took the chain's next ``seq``.

    Linear back-off of 1 ms per attempt; after ``attempts`` tries the last ``IntegrityError`` is
    raised as it is (a conflict that persists is a bug, not contention)."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(IntegrityError),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_incrementing(start=0.001, increment=0.001),
        reraise=True,
    )
    return retrying(write)


class AuditLog:
    """The audit chain in the store's ``audit_records`` table (SQLite or PostgreSQL).

    ``append`` reads the last record and inserts the next one in one transaction, so the chain
    stays linear with one writer per store (the engine process).
    """

    def __init__(self, engine: Engine, model_version: str = "", is_real_trade: bool = False) -> None:
        self.engine = engine
        self.model_version = model_version
        self.is_real_trade = is_real_trade
        self._table = AuditRecord.__table__
        self.lock = threading.RLock()

    def append(self, kind: str, payload: Any, ts: dt.datetime | None = None, model_version: str | None = None,
               is_real_trade: bool | None = None, conn: Connection | None = None) -> AuditEntry:
        """Append one record; inside ``conn``'s transaction when given (committed with the caller's rows).

        Another writer (a second thread, or ``jgod halt`` in another process) may take the same
        ``seq`` first: the primary key refuses the duplicate and the append is retried on the new
        tail, so the chain stays linear. Callers passing ``conn`` retry their whole transaction
        (:func:`retry_on_conflict`).
        """
        if conn is None:
            def write():
                with self.lock, self.engine.begin() as own:
                    return self.append(kind, payload, ts, model_version, is_real_trade, own)
            return retry_on_conflict(write)
        t = self._table
        ts = (ts or dt.datetime.now(dt.timezone.utc)).replace(tzinfo=None)
        version = self.model_version if model_version is None else model_version
        real = self.is_real_trade if is_real_trade is None else is_real_trade
        last = conn.execute(select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)).first()
        seq, prev = (1, GENESIS_HASH) if last is None else (int(last.seq) + 1, last.hash)
        payload_json = canonical_json(payload)
        h = record_hash(seq, ts, kind, payload_json, version, real, prev)
        conn.execute(insert(t).values(seq=seq, ts=ts, kind=kind, payload_json=payload_json,
                                      model_version=version, is_real_trade=real, prev_hash=prev, hash=h))
        return AuditEntry(seq, ts, kind, payload_json, version, real, prev, h)

    def entries(self) -> list[AuditEntry]:
        t = self._table
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.seq)).all()
        return [AuditEntry(int(r.seq), r.ts, r.kind, r.payload_json, r.model_version, bool(r.is_real_trade),
                           r.prev_hash, r.hash) for r in rows]

    def verify(self) -> VerifyResult:
        return verify_chain(self.entries())
