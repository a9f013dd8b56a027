"""Shioaji historical connector, offline: the ``Shioaji`` client object is replaced by one that answers
with the real ``api.ticks`` / ``api.kbars`` outputs recorded in Sinotrade's docs (fixtures/shioaji),
with the real shioaji contracts and exceptions. ``Ticks``/``KBars`` cannot be constructed in
shioaji 1.7.9, so the answers are objects with exactly their fields."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import make_dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import shioaji as sj

from jgod_core.cli import main
from jgod_core.errors import SecretError
from jgod_core.storage import models
from jgod_plugins.adapters.shioaji import data as shioaji_module
from jgod_plugins.adapters.shioaji.data import ShioajiSource
from jgod_plugins.data.fetching import fetch_into_store
from jgod_plugins.data.http import FetchError, RateLimiter

FIXTURES = Path(__file__).parents[3] / "fixtures"

RECORDED = FIXTURES / "shioaji"
FIELDS = json.loads((RECORDED / "shioaji_1.7.9_object_fields.json").read_text(encoding="utf-8"))["classes"]
TICK_FIELDS = [f["name"] for f in FIELDS["Ticks"]["fields"]]
KBAR_FIELDS = ["ts", "Open", "High", "Low", "Close", "Volume", "Amount"]  # shioaji/_core.pyi class KBars
RecordedTicks = make_dataclass("RecordedTicks", TICK_FIELDS)
RecordedKBars = make_dataclass("RecordedKBars", [(name, list, None) for name in KBAR_FIELDS])
BLOCK = re.compile(r"^## (?P<title>[^\n]+)\n(?P<kind>Ticks|Kbars|KBars)(?:\[\d+\])?\((?P<body>.*?)\n\)", re.S | re.M)
FIELD = re.compile(r"(\w+)=\[([^\]]*)\]")


def recorded_blocks(name: str) -> list[tuple[str, str, dict[str, list[float]]]]:
    """``(title, kind, fields)`` of every complete (not elided with ``...``) output in a docs file."""
    text = (RECORDED / name).read_text(encoding="utf-8")
    out = []
    for match in BLOCK.finditer(text):
        if "..." in match["body"]:
            continue
        fields = {key: [v.strip() for v in values.split(",")] for key, values in FIELD.findall(match["body"])}
        out.append((match["title"], match["kind"].lower(), fields))
    return out


def typed(fields: dict, names: list[str]) -> dict:
    """The recorded values with the real types (shioaji/_core.pyi): List[int] or List[float]."""
    kinds = {f["name"]: f["type"] for f in FIELDS["Ticks"]["fields"]} | {"ts": "List[int]", "Volume": "List[int]"}
    return {k: [int(v) if kinds.get(k) == "List[int]" else float(v) for v in fields[k]] for k in names if k in fields}


def as_ticks(fields: dict) -> RecordedTicks:
    return RecordedTicks(**typed(fields, TICK_FIELDS))


def as_kbars(fields: dict) -> RecordedKBars:
    return RecordedKBars(**typed(fields, KBAR_FIELDS))


OLD = "sinotrade_docs_market_data_historical_2025-04-28_258ddb0.txt"
NEW = "sinotrade_docs_market_data_historical_2026-07-02_81de1c5.txt"
_old = {title: fields for title, _, fields in recorded_blocks(OLD) if title in ("By Date", "KBar")}
_futures_old = [fields for title, _, fields in recorded_blocks(OLD) if title == "Continuous Futures"]
_new = [(title, fields) for title, _, fields in recorded_blocks(NEW)]
TSMC_TICKS_2023 = as_ticks(_old["By Date"])  # 2330 on 2023-01-16, 09:00:00.1..
TSMC_KBARS_2023 = as_kbars(_old["KBar"])
TXF_TICKS_2021 = as_ticks(_futures_old[0])  # TXFR1, Friday 2021-03-19 from 15:00 (night session)
TXF_KBARS_2021 = as_kbars(_futures_old[1])  # TXFR1, Monday 2021-03-22 from 08:46
TSMC_TICKS_2026 = as_ticks(next(f for t, f in _new if t == "Last N Ticks"))  # 2330 on 2026-05-18, 13:24:56..14:30
TXF_TICKS_2026 = as_ticks(next(f for t, f in _new if t == "Ticks"))  # TXF on 2026-05-18, 13:44:59


def local_day(ts: int) -> dt.date:
    return pd.Timestamp(ts, unit="ns").date()


class RecordedShioaji:
    """Stands in for ``shioaji.Shioaji``: login, contracts, ticks and kbars from the recordings."""

    KEY, SECRET = "recorded-key", "recorded-secret"

    def __init__(self, simulation: bool, faults: list[Exception] | None = None,
                 ticks: dict[str, list] | None = None, kbars: dict[str, list] | None = None) -> None:
        self.simulation = simulation
        self.faults = list(faults or [])
        self.calls: list[tuple] = []
        self.ticks_by_code = ticks if ticks is not None else {"2330": [TSMC_TICKS_2023, TSMC_TICKS_2026],
                                                               "TXFR1": [TXF_TICKS_2021, TXF_TICKS_2026]}
        self.kbars_by_code = kbars if kbars is not None else {"2330": [TSMC_KBARS_2023], "TXFR1": [TXF_KBARS_2021]}
        stocks = {"2330": sj.Stock(code="2330", exchange="TSE", symbol="TSE2330", name="台積電")}
        futures = {"TXFR1": sj.Future(code="TXFR1", symbol="TXFR1", name="臺股期貨近月", category="TXF",
                                   delivery_month="202103", underlying_kind="I", exchange="TAIFEX")}
        self.Contracts = SimpleNamespace(Stocks=stocks, Futures=futures)

    def _maybe_fail(self) -> None:
        if self.faults:
            raise self.faults.pop(0)

    def login(self, api_key: str, secret_key: str):
        self.calls.append(("login",))
        self._maybe_fail()
        if (api_key, secret_key) != (self.KEY, self.SECRET):
            raise sj.TokenError("401 Unauthorized: invalid api_key or secret_key")
        return []

    def logout(self):
        self.calls.append(("logout",))

    def ticks(self, contract, date: str):
        self.calls.append(("ticks", contract.code, date))
        self._maybe_fail()
        for recorded in self.ticks_by_code.get(contract.code, []):
            if str(local_day(recorded.ts[0])) == date:
                return recorded
        return RecordedTicks(**{k: [] for k in TICK_FIELDS})

    def kbars(self, contract, start: str, end: str):
        self.calls.append(("kbars", contract.code, start, end))
        self._maybe_fail()
        for recorded in self.kbars_by_code.get(contract.code, []):
            if start <= str(local_day(recorded.ts[0])) <= end:
                return recorded
        return RecordedKBars(**{k: [] for k in KBAR_FIELDS})


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("SHIOAJI_API_KEY", RecordedShioaji.KEY)
    monkeypatch.setenv("SHIOAJI_SECRET_KEY", RecordedShioaji.SECRET)


def connector(fast_retries, **api_kwargs) -> tuple[ShioajiSource, list[RecordedShioaji]]:
    source = ShioajiSource(ShioajiSource.Params(**fast_retries, max_attempts=3))
    made: list[RecordedShioaji] = []

    def factory(simulation: bool) -> RecordedShioaji:
        made.append(RecordedShioaji(simulation, **api_kwargs))
        return made[-1]

    source.api_factory = factory
    return source, made


def fetch(store, source, dataset, symbols, start, end=None):
    return fetch_into_store(store, "shioaji", dataset, symbols, start, end or start, progress=False, connector=source)


def test_recorded_answers_have_exactly_the_fields_of_the_real_shioaji_types():
    real = {name for name in dir(sj.Ticks) if not name.startswith("_")} - {"dict", "keys"}
    assert set(TICK_FIELDS) == real
    assert set(KBAR_FIELDS) == {name for name in dir(sj.KBars) if not name.startswith("_")} - {"dict", "keys"}
    assert len(TSMC_TICKS_2023.ts) == len(TXF_KBARS_2021.ts) == len(TSMC_TICKS_2026.ts) == 4


def test_kbars_are_stored_as_intraday_bars_that_start_one_minute_before_their_stamp(store, fast_retries, credentials):
    source, made = connector(fast_retries)
    lines = fetch(store, source, "kbars", "2330", dt.date(2023, 1, 16))
    assert (lines[0].received, lines[0].written) == (4, 4)
    bars = pd.read_sql_table("intraday_bars", store.engine).sort_values("bar_start")
    assert bars["bar_start"].iloc[0] == pd.Timestamp("2023-01-16 01:00:00")  # 09:00 Taipei, the open
    assert bars["available_at"].iloc[0] == pd.Timestamp("2023-01-16 01:01:00")  # known at the bar's end
    assert bars[["open", "high", "low", "close", "volume"]].iloc[0].tolist() == [506.0, 508.0, 505.0, 505.0, 5308.0]
    assert set(bars["instrument"]) == {"2330"} and set(bars["session"]) == {"day"}
    assert made[0].simulation is True


def test_refetching_kbars_writes_nothing_twice(store, fast_retries, credentials):
    source, made = connector(fast_retries)
    fetch(store, source, "kbars", "2330", dt.date(2023, 1, 16))
    again = fetch(store, source, "kbars", "2330", dt.date(2023, 1, 10), dt.date(2023, 1, 16))
    assert again[0].requested == "2023-01-16..2023-01-16"  # resumes at the last stored day
    assert again[0].written == 0 and store.count(models.IntradayBar) == 4


def test_ticks_go_to_the_parquet_store_with_aggressor_side_and_quotes(store, fast_retries, credentials):
    source, _ = connector(fast_retries)
    lines = fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))
    assert lines[0].written == 4
    ticks = store.intraday.read_ticks("2330")
    first = pd.Timestamp(int(ticks["exchange_ns"].iloc[0]), tz="UTC").tz_convert("Asia/Taipei")
    assert first == pd.Timestamp("2023-01-16 09:00:00.113699", tz="Asia/Taipei")
    assert ticks["price"].tolist() == [506.0, 505.0, 506.0, 506.0] and ticks["size"].tolist() == [3340, 1, 17, 2]
    assert ticks["side"].tolist() == [1, -1, 1, -1]
    assert ticks["bid_px"].tolist() == [505.0, 505.0, 506.0, 506.0] and ticks["ask_qty"].tolist() == [13, 22, 702, 702]
    assert fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))[0].written == 0
    assert len(store.intraday.read_ticks("2330")) == 4


def test_futures_night_ticks_belong_to_the_next_trading_day_and_empty_quotes_are_null(store, fast_retries, credentials):
    source, _ = connector(fast_retries)
    fetch(store, source, "ticks", "TXFR1", dt.date(2021, 3, 19))
    ticks = store.intraday.read_ticks("tx")
    assert set(ticks["trade_date"]) == {dt.date(2021, 3, 22)}  # Friday 15:00 opens Monday's session
    assert set(ticks["contract"]) == {"R1"}
    assert np.isnan(ticks["bid_px"].iloc[0]) and np.isnan(ticks["ask_qty"].iloc[0])  # 0.0 quote = none
    assert ticks["seq"].tolist() == [0, 0, 1, 0]  # the two prints at .140 s keep their order


def test_futures_kbars_are_a_day_session_of_their_product(store, fast_retries, credentials):
    source, _ = connector(fast_retries)
    fetch(store, source, "kbars", "TXFR1", dt.date(2021, 3, 22))
    bars = pd.read_sql_table("intraday_bars", store.engine).sort_values("bar_start")
    assert (bars["instrument"].iloc[0], bars["contract"].iloc[0], bars["session"].iloc[0]) == ("tx", "R1", "day")
    assert bars["bar_start"].iloc[0] == pd.Timestamp("2021-03-22 00:45:00")  # 08:45 Taipei


def test_transient_errors_are_retried_and_the_load_completes(store, fast_retries, credentials):
    source, made = connector(fast_retries, faults=[sj.ShioajiTimeoutError("timed out"),
                                                   sj.MarketDataQueryUnavailableError("503 unavailable")])
    lines = fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))
    assert lines[0].written == 4
    calls = [c[0] for c in made[0].calls]
    assert calls.count("login") == 3 and calls.count("ticks") == 1  # timed out, unavailable, then logged in


def test_a_symbol_that_keeps_failing_leaves_the_store_untouched_for_all_symbols(store, fast_retries, credentials):
    source, made = connector(fast_retries, kbars={"2330": [TSMC_KBARS_2023], "TXFR1": [TXF_KBARS_2021]})
    made_faults = [sj.ShioajiConnectionError("connection reset")] * 3

    original = source.api_factory

    def factory(simulation):
        api = original(simulation)
        real_kbars = api.kbars

        def kbars(contract, start, end):
            if contract.code == "TXFR1":
                raise made_faults[0]
            return real_kbars(contract, start, end)

        api.kbars = kbars
        return api

    source.api_factory = factory
    with pytest.raises(FetchError, match=r"shioaji kbars TXFR1: .*ShioajiConnectionError.*gave up after 3 attempts"):
        fetch(store, source, "kbars", "2330,TXFR1", dt.date(2021, 3, 22), dt.date(2023, 1, 16))
    assert store.count(models.IntradayBar) == 0 and store.count(models.LoadRecord) == 0


def test_bad_credentials_fail_fast_naming_source_dataset_symbol_and_the_variables(store, fast_retries, monkeypatch):
    monkeypatch.setenv("SHIOAJI_API_KEY", "wrong")
    monkeypatch.setenv("SHIOAJI_SECRET_KEY", "wrong")
    source, made = connector(fast_retries)
    with pytest.raises(FetchError, match=r"shioaji kbars 2330: login failed: TokenError.*SHIOAJI_API_KEY/SHIOAJI_SECRET_KEY"):
        fetch(store, source, "kbars", "2330", dt.date(2023, 1, 16))
    assert made[0].calls == [("login",)]  # not retried


def test_missing_credentials_are_a_secret_error_before_any_call(store, fast_retries, monkeypatch):
    monkeypatch.delenv("SHIOAJI_API_KEY", raising=False)
    monkeypatch.delenv("SHIOAJI_SECRET_KEY", raising=False)
    source, made = connector(fast_retries)
    with pytest.raises(SecretError, match="SHIOAJI_API_KEY and SHIOAJI_SECRET_KEY"):
        fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))
    assert made == []


def test_unknown_contract_fails_fast(store, fast_retries, credentials):
    source, made = connector(fast_retries)
    with pytest.raises(FetchError, match="shioaji ticks 9999: unknown contract"):
        fetch(store, source, "ticks", "9999", dt.date(2023, 1, 16))
    assert [c for c in made[0].calls if c[0] == "ticks"] == []


def test_exhausted_daily_quota_is_not_retried(store, fast_retries, credentials):
    source, _ = connector(fast_retries)
    asked = []

    def factory(simulation):
        api = RecordedShioaji(simulation)

        def ticks(contract, date):
            asked.append(date)
            raise sj.MarketDataQueryUsageLimitError("daily quota exhausted")

        api.ticks = ticks
        return api

    source.api_factory = factory
    with pytest.raises(FetchError, match="shioaji ticks 2330: .*MarketDataQueryUsageLimitError: daily quota exhausted"):
        fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))
    assert asked == ["2023-01-16"]


def test_malformed_answer_is_a_located_error(store, fast_retries, credentials):
    broken = RecordedTicks(**{k: list(getattr(TSMC_TICKS_2023, k)) for k in TICK_FIELDS})
    broken.close = broken.close[:2]
    source, _ = connector(fast_retries, ticks={"2330": [broken]})
    with pytest.raises(FetchError, match="shioaji ticks 2330: malformed response.*different lengths"):
        fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16))
    assert store.intraday.days("ticks", "2330") == []


def test_every_call_waits_for_the_rate_limit(store, fast_retries, credentials, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(shioaji_module, "RateLimiter",
                        lambda rate: RateLimiter(rate, clock=lambda: 0.0, sleep=waits.append))
    source, made = connector({**fast_retries, "calls_per_minute": 30})
    fetch(store, source, "ticks", "2330", dt.date(2023, 1, 16), dt.date(2023, 1, 18))
    calls = len([c for c in made[0].calls if c[0] in ("login", "ticks")])
    assert calls == 4 and waits == [2.0, 4.0, 6.0]  # 60/30 s apart on a frozen clock


def test_cli_fetch_without_credentials_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SHIOAJI_API_KEY", raising=False)
    code = main(["data", "fetch", "--source", "shioaji", "--dataset", "kbars", "--symbols", "2330",
                 "--start", "2023-01-16", "--store", f"sqlite:///{tmp_path / 'x.sqlite'}"])
    err = capsys.readouterr().err
    assert code == 1 and "SHIOAJI_API_KEY" in err and "Traceback" not in err
