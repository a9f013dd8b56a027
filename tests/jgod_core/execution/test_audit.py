"""The audit chain detects an edit, a deletion, an insertion or a reordering at the right record."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, delete, text, update

from jgod_core.cli import main
from jgod_core.execution.audit import AuditLog, canonical_json, chain_entries, record_hash, verify_chain
from jgod_core.storage.models import AuditRecord, Base

T0 = dt.datetime(2024, 5, 2, 9, 0)


@pytest.fixture
def log(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    Base.metadata.create_all(engine, tables=[AuditRecord.__table__])
    audit = AuditLog(engine, model_version="m1")
    for k in range(10):
        audit.append("order_event", {"client_order_id": f"o{k}", "quantity": 1000 * (k + 1)},
                     ts=T0 + dt.timedelta(seconds=k))
    return audit


def test_untouched_chain_verifies(log):
    result = log.verify()
    assert result.ok and result.records == 10


def test_first_record_links_to_genesis_and_hash_is_sha256_of_prev_and_canonical_body(log):
    first = log.entries()[0]
    assert first.prev_hash == "0" * 64
    import hashlib
    body = canonical_json([1, T0.isoformat(timespec="microseconds"), "order_event", first.payload_json, "m1", False,
                           "0" * 64])
    assert first.hash == hashlib.sha256(("0" * 64 + body).encode()).hexdigest()


@pytest.mark.parametrize("seq", [1, 5, 10])
def test_edited_record_is_named(log, seq):
    t = AuditRecord.__table__
    with log.engine.begin() as conn:
        conn.execute(update(t).where(t.c.seq == seq).values(payload_json='{"client_order_id":"o0","quantity":99}'))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == seq and "edited" in result.reason


@pytest.mark.parametrize("seq", [1, 4, 9])
def test_deleted_record_is_named(log, seq):
    t = AuditRecord.__table__
    with log.engine.begin() as conn:
        conn.execute(delete(t).where(t.c.seq == seq))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == seq and "deleted" in result.reason


def test_inserted_record_is_named(log):
    entries = log.entries()
    forged = chain_entries([{"ts": T0, "kind": "order_event", "payload": {"client_order_id": "evil"}}],
                           start_hash=entries[3].hash, start_seq=5)[0]
    t = AuditRecord.__table__
    with log.engine.begin() as conn:  # shift seq 5.. up by one and slot the forgery in at 5
        for e in reversed(entries[4:]):
            conn.execute(update(t).where(t.c.seq == e.seq).values(seq=e.seq + 1))
        conn.execute(t.insert().values(seq=5, ts=forged.ts, kind=forged.kind, payload_json=forged.payload_json,
                                       model_version=None, is_real_trade=False, prev_hash=forged.prev_hash,
                                       hash=forged.hash))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 6  # the forgery links back; the next record cannot


def test_inserted_record_with_duplicate_content_and_no_renumbering_is_named(log):
    entries = chain_entries([{"ts": T0, "kind": "k", "payload": {"a": k}} for k in range(5)])
    bogus = chain_entries([{"ts": T0, "kind": "k", "payload": {"a": "x"}}], entries[1].hash, 3)[0]
    tampered = entries[:2] + [bogus] + entries[2:]
    result = verify_chain(tampered)
    assert result.first_bad_position == 4


@pytest.mark.parametrize("seq", [1, 5, 9])
def test_swapped_records_are_named(log, seq):
    t = AuditRecord.__table__
    with log.engine.begin() as conn:
        conn.execute(update(t).where(t.c.seq == seq).values(seq=-1))
        conn.execute(update(t).where(t.c.seq == seq + 1).values(seq=seq))
        conn.execute(update(t).where(t.c.seq == -1).values(seq=seq + 1))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == seq


def test_reordered_list_is_named_at_first_moved_position():
    entries = chain_entries([{"ts": T0, "kind": "k", "payload": {"a": k}} for k in range(6)])
    swapped = entries[:2] + [entries[3], entries[2]] + entries[4:]
    result = verify_chain(swapped)
    assert result.first_bad_position == 3 and "found 4" in result.reason


def test_canonical_json_is_independent_of_key_order():
    assert canonical_json({"b": 1, "a": [1, 2]}) == canonical_json({"a": [1, 2], "b": 1}) == '{"a":[1,2],"b":1}'
    assert record_hash(1, T0, "k", "{}", None, False, "0" * 64) == record_hash(1, T0, "k", "{}", "", False, "0" * 64)


def test_cli_audit_verify_names_the_bad_record(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert main(["halt", "--reason", "test", "--store", url]) == 0
    assert main(["resume", "--store", url]) == 0
    assert main(["audit", "verify", "--store", url]) == 0
    assert "audit chain ok: 2 record(s)" in capsys.readouterr().out
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET payload_json = '{}' WHERE seq = 2"))
    assert main(["audit", "verify", "--store", url]) == 1
    assert "broken at record seq 2" in capsys.readouterr().err
