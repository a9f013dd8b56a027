"""Shioaji decoders on the documented real outputs (Sinotrade docs) and the 1.7.9 object schema.

Fixtures (``tests/fixtures/shioaji``) are copies of ``../shared/data/formats/shioaji``: the example
output blocks of the official streaming and snapshot docs (JSON / SSE payloads and attribute
dumps of TickSTKv1, BidAskSTKv1, TickFOPv1, BidAskFOPv1, Snapshot) and the field list of the
shioaji 1.7.9 wheel's type stub.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jgod_core.data.events import BOOK, INDEX, TRADE
from jgod_core.errors import SecretError
from jgod_plugins.adapters.shioaji.feed import (
    ShioajiFeedParams,
    ShioajiTransport,
    decode_bidask,
    decode_snapshot,
    decode_tick,
)
from jgod_plugins.intraday.processor import IntradayProcessor

FIXTURES = Path(__file__).parents[3] / "fixtures" / "shioaji"
FUTURES_DOC = FIXTURES / "sinotrade_docs_market_data_streaming_futures_2026-05-29_00dc821.txt"
STOCKS_DOC = FIXTURES / "sinotrade_docs_market_data_streaming_stocks_2026-05-29_00dc821.txt"
SNAPSHOT_DOC = FIXTURES / "sinotrade_docs_market_data_snapshot_2026-07-02_81de1c5.txt"
RECEIVED = 1


def _value(text: str):
    """One value of an attribute dump (``bid_price=[Decimal('40613'), …]``, ``date=(2026, 5, 20)``)."""
    if text.startswith("Exchange."):
        return text.removeprefix("Exchange.")
    if "Decimal(" in text:
        return [Decimal(v) for v in re.findall(r"Decimal\('([^']+)'\)", text)]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def doc_payloads(path: Path, section: str) -> dict[str, list]:
    """``{"json": [...], "attrs": [...]}`` of the doc's ``## <section>`` example outputs."""
    out: dict[str, list] = {"json": [], "attrs": []}
    for block in re.split(r"^## ", path.read_text(encoding="utf-8"), flags=re.M)[1:]:
        title, _, body = block.partition("\n")
        if title.strip() != section:
            continue
        for m in re.finditer(r"^(?:data:)?(\{\n.*?\n\})$", body, flags=re.M | re.S):
            out["json"].append(json.loads(m.group(1)))
        lines = [line for line in body.splitlines() if re.match(r"^[a-z_0-9]+=", line)]
        if lines:
            attrs = {k: _value(v) for k, v in (line.split("=", 1) for line in lines)}
            attrs["date"] = dt.date(*attrs["date"])
            attrs["time"] = dt.time(*attrs["time"])
            attrs["datetime"] = dt.datetime(*attrs["datetime"])
            out["attrs"].append(SimpleNamespace(**attrs))
    return out


def taipei_ns(stamp: str) -> int:
    return pd.Timestamp(stamp, tz="Asia/Taipei").value


def test_documented_futures_ticks_decode_to_trades_in_contracts_with_the_aggressor_side():
    ticks = doc_payloads(FUTURES_DOC, "Tick")
    assert len(ticks["json"]) == 2 and len(ticks["attrs"]) == 1
    (first,) = decode_tick(ticks["json"][0], RECEIVED)
    assert (first.symbol, first.kind, first.price, first.size, first.side) == ("TXFF6", TRADE, 40619.0, 2.0, 1)
    assert first.exchange_ns == taipei_ns("2026-05-20 18:50:02.981")
    (dumped,) = decode_tick(ticks["attrs"][0], RECEIVED)  # the object's attributes: datetime, tick_type 2
    assert (dumped.price, dumped.size, dumped.side) == (40598.0, 1.0, -1)
    assert dumped.exchange_ns == taipei_ns("2026-05-20 19:15:01.284")


def test_board_lot_stock_ticks_count_shares_so_price_times_size_is_the_documented_amount():
    ticks = [t for t in doc_payloads(STOCKS_DOC, "Intraday Odd Lot")["json"]
             if "close" in t and "bid_price" not in t and not t["intraday_odd"]]
    ticks.append(vars(doc_payloads(STOCKS_DOC, "Tick")["attrs"][0]))  # the TickSTKv1 object's attributes
    assert len(ticks) == 3
    for tick in ticks:
        (event,) = decode_tick(tick, RECEIVED)
        assert event.price * event.size == pytest.approx(float(tick["amount"]))
        assert event.size == tick["volume"] * 1000


def test_odd_lot_and_trial_match_messages_are_not_trades():
    odd = [t for t in doc_payloads(STOCKS_DOC, "Intraday Odd Lot")["json"] if t["intraday_odd"]]
    assert len(odd) == 4  # two ticks, two bid/asks
    assert all((decode_bidask if "bid_price" in t else decode_tick)(t, RECEIVED) == [] for t in odd)
    trial = dict(doc_payloads(FUTURES_DOC, "Tick")["json"][0], simtrade=True)
    assert decode_tick(trial, RECEIVED) == []


def test_documented_bidasks_decode_to_five_level_books_in_contracts_and_shares():
    fut = doc_payloads(FUTURES_DOC, "BidAsk")
    (book,) = decode_bidask(fut["json"][0], RECEIVED)
    assert book.kind == BOOK and book.exchange_ns == taipei_ns("2026-05-20 19:24:03.012")
    assert book.book[:5] == (40615, 40613, 40612, 40611, 40610)
    assert book.book[5:10] == (1, 2, 1, 2, 2)
    assert book.book[10:15] == (40618, 40619, 40620, 40621, 40622)
    assert book.book[15:] == (6, 2, 3, 2, 6)
    (dumped,) = decode_bidask(fut["attrs"][0], RECEIVED)  # Decimal prices as the object holds them
    assert dumped.book[0] == 40613.0 and dumped.book[10] == 40617.0
    (stock,) = decode_bidask(doc_payloads(STOCKS_DOC, "BidAsk")["attrs"][0], RECEIVED)
    assert stock.symbol == "2890" and stock.book[0] == 29.75 and stock.book[14] == 30.0
    assert stock.book[5] == 337_000 and stock.book[15] == 37_000  # lots → shares, like the ticks


def test_snapshot_ts_is_taipei_wall_time_counted_as_if_utc():
    text = SNAPSHOT_DOC.read_text(encoding="utf-8")
    ts = int(re.search(r"ts=(\d+)", text).group(1))
    close = float(re.search(r"close=([\d.]+)", text).group(1))
    (event,) = decode_snapshot(SimpleNamespace(ts=ts, code="2330", close=close), RECEIVED)
    # the same snapshot's table form says 2026-05-18T14:30:00 (Taipei)
    assert "2026-05-18T14:30:00" in text
    assert event.kind == INDEX and event.price == 2240.0
    assert event.exchange_ns == taipei_ns("2026-05-18 14:30:00")
    assert decode_snapshot(SimpleNamespace(ts=ts, code="2330", close=0), RECEIVED) == []


class _Recorder:
    """An object with exactly the fields of one shioaji 1.7.9 class; records which are read."""

    def __init__(self, fields: dict):
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name):
        self.read.add(name)
        if name not in self._fields:
            raise AttributeError(name)
        return self._fields[name]


SAMPLE = {"code": "TXFF6", "datetime": dt.datetime(2026, 5, 20, 9, 0), "close": "40619", "volume": 1,
          "tick_type": 1, "simtrade": False, "suspend": False, "intraday_odd": False,
          "bid_price": ["1"] * 5, "bid_volume": [1] * 5, "ask_price": ["2"] * 5, "ask_volume": [1] * 5}


@pytest.mark.parametrize("cls, decoder", [("TickSTKv1", decode_tick), ("TickFOPv1", decode_tick),
                                          ("BidAskSTKv1", decode_bidask), ("BidAskFOPv1", decode_bidask)])
def test_decoders_read_only_fields_the_shioaji_1_7_9_objects_have(cls, decoder):
    schema = json.loads((FIXTURES / "shioaji_1.7.9_object_fields.json").read_text())["classes"][cls]
    names = {f["name"] for f in schema["fields"]}
    obj = _Recorder({n: SAMPLE[n] for n in names if n in SAMPLE})
    (event,) = decoder(obj, RECEIVED)
    # ``intraday_odd`` tells stocks from futures: it must exist on STK objects and not on FOP ones
    assert ("intraday_odd" in names) == cls.endswith("STKv1")
    assert obj.read - {"intraday_odd"} <= names
    assert event.size in (1.0, 1000.0) or event.book[5] in (1.0, 1000.0)


def test_decoded_documented_stream_feeds_the_processor():
    fut = doc_payloads(FUTURES_DOC, "Tick")["json"] + doc_payloads(FUTURES_DOC, "BidAsk")["json"]
    events = sorted((e for m in fut for e in (decode_tick(m, RECEIVED) if "close" in m else
                                               decode_bidask(m, RECEIVED))), key=lambda e: e.exchange_ns)
    proc = IntradayProcessor(["TXFF6"])
    assert all(proc.on_event(e) for e in events)
    assert proc.last_price()[0] == 40608.0
    bid, ask = proc.best_quote(0)
    assert (bid, ask) == (40613.0, 40618.0)
    assert np.isclose(proc.component("book_imbalance")[0], (19 - 20) / 39)


async def _connect(transport):
    await transport.connect()


def test_missing_credentials_is_a_clear_secret_error(monkeypatch):
    import asyncio

    monkeypatch.delenv("SHIOAJI_API_KEY", raising=False)
    monkeypatch.delenv("SHIOAJI_SECRET_KEY", raising=False)
    transport = ShioajiTransport(ShioajiFeedParams(futures=["TXFR1"]), lambda: 0)
    with pytest.raises(SecretError, match="SHIOAJI_API_KEY and SHIOAJI_SECRET_KEY"):
        asyncio.run(_connect(transport))
