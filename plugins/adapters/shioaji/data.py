"""Shioaji (Sinopac) historical connector: 1-minute k-bars and ticks through the real ``shioaji`` package.

Datasets:

- ``kbars`` → the database's ``intraday_bars`` table. Shioaji stamps a k-bar at its END
  (the 2330 bar of 09:00–09:01 is ``09:01:00``), so ``bar_start`` = ts − 1 min and the bar is
  public (``available_at``) at ts. Requested in windows of ``kbar_window_days``.
- ``ticks`` → the Parquet tick store (:mod:`jgod_core.storage.intraday`), one request per
  trading day: price, size, best bid/ask at the trade (0 = no quote → null) and the aggressor
  from ``tick_type`` (1 buy / 2 sell / 0 unknown); ``seq`` = position in the day's response.

Shioaji's ``ts`` are Taipei wall-clock times written as if they were UTC epoch nanoseconds
(``1673859600113699000`` is 2023-01-16 09:00:00.113699 in Taipei); they are converted to true
UTC. Futures rows after 15:00 (and after midnight on a non-trading day) belong to the next
trading day's night session.

Symbols: stock codes (``2330``, ``'0050'``; stored under the code) or futures codes
(``TXFR1`` near month, ``TXF202606``; stored as product ``tx``/``mtx``/… with the contract
month, or ``R1``/``R2`` for the continuous series). Credentials only from the environment
(``SHIOAJI_API_KEY``, ``SHIOAJI_SECRET_KEY``); ``simulation`` logs in to Sinopac's
simulation environment. Calls are rate-limited and retried like the HTTP connectors
(:func:`jgod_plugins.data.http.call_with_retries`); bad credentials, unknown contracts and
rejected queries fail at once, naming source, dataset and symbol.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable

import numpy as np
import pandas as pd
from pydantic import Field

from jgod_core.config.models import require_env
from jgod_core.data.symbols import SymbolError, normalize_symbol
from jgod_core.plugin.components import DataKind
from jgod_core.storage import models
from jgod_plugins.data.connector import Connector, DatasetSpec
from jgod_plugins.data.http import FetchError, RateLimiter, RetryParams, TransientFetchError, call_with_retries
from jgod_plugins.tw_market import timing
from jgod_plugins.tw_market.calendar import trading_days

API_KEY_ENV = "SHIOAJI_API_KEY"
SECRET_KEY_ENV = "SHIOAJI_SECRET_KEY"
_FUTURES_CODE = re.compile(r"^[A-Z]{3}(R[12]|\d{6}|[A-Z]\d)$")
PRODUCT_BY_CATEGORY = {"TXF": "tx", "MXF": "mtx", "TMF": "tmf"}
MINUTE = pd.Timedelta(minutes=1)
TAIPEI = "Asia/Taipei"


class ShioajiParams(RetryParams):
    """Shioaji login mode, query budget and retry policy."""

    simulation: bool = Field(True, description="Log in to Sinopac's simulation environment (no real account needed "
                                               "beyond the API key).")
    calls_per_minute: float = Field(60.0, gt=0, le=6000, description="Historical-query budget of this source.")
    kbar_window_days: int = Field(31, ge=1, le=366, description="Days of k-bars asked for per request.")
    api_key_env: str = Field(API_KEY_ENV, min_length=1, description="Environment variable holding the API key.")
    secret_key_env: str = Field(SECRET_KEY_ENV, min_length=1, description="Environment variable holding the secret key.")


def _default_api(simulation: bool) -> Any:
    import shioaji as sj

    return sj.Shioaji(simulation=simulation)


def _classify(exc: BaseException) -> bool | None:
    """True: worth retrying; False: permanent; None: not a Shioaji/network error (re-raised)."""
    import shioaji as sj

    retryable = getattr(exc, "retryable", None)
    if isinstance(exc, sj.MarketDataQueryUsageLimitError):
        return False  # the daily quota is gone: retrying today cannot help
    if isinstance(retryable, bool):
        return retryable
    if isinstance(exc, (sj.ShioajiTimeoutError, sj.ShioajiConnectionError, sj.SystemMaintenance, sj.ServerError,
                        sj.MarketDataQueryTimeoutError, sj.MarketDataQueryUnavailableError, TimeoutError,
                        ConnectionError)):
        return True
    if isinstance(exc, sj.ShioajiError):
        return False
    return None


class ShioajiClient:
    """One logged-in Shioaji session under the source's rate limit and retry policy."""

    def __init__(self, source: str, params: ShioajiParams, api_factory: Callable[[bool], Any]) -> None:
        self.source = source
        self.params = params
        self.api_factory = api_factory
        self.limiter = RateLimiter(params.calls_per_minute)
        self.api: Any = None
        self.calls = 0
        self.describe: Callable[[str], None] | None = None  # progress line, set by the fetch driver

    def __enter__(self) -> "ShioajiClient":
        return self

    def __exit__(self, *exc) -> None:
        if self.api is not None:
            try:
                self.api.logout()
            except Exception:  # noqa: BLE001 - a failed logout must not hide the fetch's outcome
                pass
            self.api = None

    def _credentials(self) -> tuple[str, ...]:
        return require_env(self.params.api_key_env, self.params.secret_key_env, purpose="shioaji credentials")

    def session(self, dataset: str, symbol: str) -> Any:
        """The logged-in API object (logs in on first use)."""
        if self.api is None:
            key, secret = self._credentials()
            api = self.api_factory(self.params.simulation)
            self.call(dataset, symbol, "login", lambda: api.login(api_key=key, secret_key=secret),
                      permanent_hint=f" (check {self.params.api_key_env}/{self.params.secret_key_env})")
            self.api = api
        return self.api

    def call(self, dataset: str, symbol: str, what: str, fn: Callable[[], Any], permanent_hint: str = "") -> Any:
        """``fn()`` rate-limited; transient Shioaji/network errors retried with backoff, others fail fast."""
        def once() -> Any:
            if self.describe is not None:
                self.describe(f"{self.source} {dataset} {symbol} {what}")
            self.limiter.acquire()
            self.calls += 1
            try:
                return fn()
            except Exception as exc:  # noqa: BLE001 - classified below, never swallowed
                transient = _classify(exc)
                reason = f"{what} failed: {type(exc).__name__}: {exc}"
                if transient is True:
                    raise TransientFetchError(self.source, dataset, symbol, reason) from None
                if transient is False:
                    raise FetchError(self.source, dataset, symbol, reason + permanent_hint) from None
                raise

        return call_with_retries(self.source, self.params, dataset, symbol, once)

    def contract(self, dataset: str, symbol: str) -> Any:
        """The Shioaji contract of ``symbol`` (stock or futures); unknown → a permanent error."""
        api = self.session(dataset, symbol)
        category = api.Contracts.Futures if _FUTURES_CODE.match(symbol) else api.Contracts.Stocks
        try:
            found = category.get(symbol)
        except (KeyError, IndexError, AttributeError):
            found = None
        if found is None:
            raise FetchError(self.source, dataset, symbol, "unknown contract (not in Shioaji's contract list)")
        return found


class ShioajiSource(Connector):
    """Shioaji historical 1-minute k-bars and ticks for TWSE/TPEx stocks and TAIFEX futures.

    Inputs: the ``shioaji`` package (``api.kbars`` / ``api.ticks``). Bars are public at their
    end, ticks at their exchange time. No warm-up.
    """

    name = "shioaji"
    version = "1.0.0"
    Params = ShioajiParams
    datasets = {
        "kbars": DatasetSpec(models.IntradayBar, DataKind.INTRADAY_BARS, "contract", "instrument", "trade_date"),
        "ticks": DatasetSpec(None, DataKind.INTRADAY_TICKS, "contract", "instrument", "trade_date",
                             intraday_kind="ticks"),
    }
    requires = frozenset()
    api_factory: Callable[[bool], Any] = staticmethod(_default_api)

    def client(self) -> ShioajiClient:
        return ShioajiClient(self.name, self.params, self.api_factory)

    def normalise_symbol(self, dataset: str, raw: str) -> str:
        code = str(raw).strip().upper()
        if _FUTURES_CODE.match(code):
            return code
        try:
            return normalize_symbol(raw)
        except SymbolError:
            raise FetchError(self.name, dataset, str(raw), "neither a stock code (e.g. 2330, '0050') nor a futures "
                             "code (e.g. TXFR1, TXF202606)") from None

    def store_key(self, dataset: str, symbol: str) -> str:
        return _instrument_contract(symbol)[0]

    def stored_filter(self, dataset: str, symbol: str) -> dict[str, str]:
        instrument, contract = _instrument_contract(symbol)
        return {"instrument": instrument} if dataset == "ticks" else {"instrument": instrument, "contract": contract}

    def resume_from(self, dataset: str, last_stored: dt.date) -> dt.date:
        """Refetch the last stored day: it may have been fetched mid-session (or hold only a night
        session); upserts and keyed Parquet merges make the overlap write nothing twice."""
        return last_stored

    def fetch(self, client: ShioajiClient, dataset: str, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        contract = client.contract(dataset, symbol)
        if dataset == "kbars":
            frames = []
            window = dt.timedelta(days=self.params.kbar_window_days)
            first = start
            while first <= end:
                last = min(first + window - dt.timedelta(days=1), end)
                bars = client.call(dataset, symbol, f"kbars {first}..{last}",
                                   lambda a=first, b=last: client.api.kbars(contract, start=str(a), end=str(b)))
                frames.append(self._shape(kbars_frame, bars, dataset, symbol))
                first = last + dt.timedelta(days=1)
            shaped = _concat(frames)
            shaped = shaped[(shaped["trade_date"] >= start) & (shaped["trade_date"] <= end)] if len(shaped) else shaped
        else:
            frames = []
            for day in trading_days(start, end):
                day = day.item() if hasattr(day, "item") else day
                ticks = client.call(dataset, symbol, f"ticks {day}",
                                    lambda d=day: client.api.ticks(contract, date=str(d)))
                frames.append(self._shape(ticks_frame, ticks, dataset, symbol))
            shaped = _concat(frames)
            if len(shaped):  # a night session may come with two requested days
                shaped = shaped.drop_duplicates(["trade_date", "exchange_ns", "seq"], keep="first")
        if shaped.empty:
            return shaped
        shaped = shaped.assign(source=self.name)
        if dataset == "kbars":
            shaped["updated_at"] = timing.utc_now()
        return shaped.reset_index(drop=True)

    def _shape(self, shaper, response: Any, dataset: str, symbol: str, **kwargs) -> pd.DataFrame:
        try:
            return shaper(response, symbol, **kwargs)
        except (AttributeError, KeyError, ValueError, TypeError) as exc:
            raise FetchError(self.name, dataset, symbol, f"malformed response ({type(exc).__name__}: {exc})") from None


# -- response shapers -------------------------------------------------------------------------------


def _instrument_contract(symbol: str) -> tuple[str, str]:
    """Store keys of a symbol: stocks under their code; futures as product + contract month (or R1/R2)."""
    if not _FUTURES_CODE.match(symbol):
        return symbol, symbol
    category, rest = symbol[:3], symbol[3:]
    return PRODUCT_BY_CATEGORY.get(category, category.lower()), rest


def _columns(response: Any, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, list]:
    out = {name: list(getattr(response, name)) for name in names}
    for name in optional:  # e.g. Amount, absent before shioaji 1.x
        if getattr(response, name, None) is not None:
            out[name] = list(getattr(response, name))
    lengths = {name: len(values) for name, values in out.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of different lengths {lengths}")
    return out


def shioaji_local_ns(ts: pd.Series | np.ndarray) -> pd.Series:
    """Shioaji ``ts`` (Taipei wall clock encoded as UTC epoch ns) → Taipei-local naive timestamps."""
    return pd.Series(pd.to_datetime(np.asarray(ts, dtype=np.int64), unit="ns"))


def _trade_dates(local: pd.Series, symbol: str) -> pd.Series:
    if _FUTURES_CODE.match(symbol):
        return timing.taifex_trade_dates(local)
    return local.dt.date


def kbars_frame(kbars: Any, symbol: str) -> pd.DataFrame:
    """``api.kbars`` output → ``intraday_bars`` rows (bar end = ts)."""
    data = _columns(kbars, ("ts", "Open", "High", "Low", "Close", "Volume"), ("Amount",))
    if not data["ts"]:
        return pd.DataFrame()
    end_local = shioaji_local_ns(data["ts"])
    start_local = end_local - MINUTE
    instrument, contract = _instrument_contract(symbol)
    end_utc = end_local.dt.tz_localize(TAIPEI).dt.tz_convert("UTC").dt.tz_localize(None)
    night = (start_local.dt.time >= timing.TAIFEX_NIGHT_SESSION_OPENS) | (start_local.dt.time < dt.time(6, 0))
    return pd.DataFrame({
        "instrument": instrument, "contract": contract, "trade_date": _trade_dates(start_local, symbol),
        "session": np.where(night, "night", "day"),
        "bar_start": end_utc - MINUTE, "bar_minutes": 1,
        "open": np.asarray(data["Open"], float), "high": np.asarray(data["High"], float),
        "low": np.asarray(data["Low"], float), "close": np.asarray(data["Close"], float),
        "volume": np.asarray(data["Volume"], float), "trades": None,
        "available_at": end_utc,
    })


def ticks_frame(ticks: Any, symbol: str) -> pd.DataFrame:
    """``api.ticks`` output → tick-store rows (aggressor from ``tick_type``; 0-priced quotes are absent)."""
    data = _columns(ticks, ("ts", "close", "volume", "bid_price", "bid_volume", "ask_price", "ask_volume"),
                    ("tick_type",))
    if not data["ts"]:
        return pd.DataFrame()
    local = shioaji_local_ns(data["ts"])
    instrument, contract = _instrument_contract(symbol)
    bid_px, ask_px = np.asarray(data["bid_price"], float), np.asarray(data["ask_price"], float)
    no_bid, no_ask = bid_px <= 0, ask_px <= 0
    side = np.asarray(data.get("tick_type", [0] * len(local)), dtype=np.int64)
    exchange_ns = local.dt.tz_localize(TAIPEI).astype("int64")
    return pd.DataFrame({
        "instrument": instrument, "trade_date": _trade_dates(local, symbol), "exchange_ns": exchange_ns,
        # prints sharing one timestamp are told apart by their order: the same in every response
        "seq": exchange_ns.groupby(exchange_ns).cumcount().to_numpy(np.int64),
        "price": np.asarray(data["close"], float), "size": np.asarray(data["volume"], float),
        "side": np.select([side == 1, side == 2], [1, -1], 0).astype(np.int8),
        "bid_px": np.where(no_bid, np.nan, bid_px),
        "bid_qty": np.where(no_bid, np.nan, np.asarray(data["bid_volume"], float)),
        "ask_px": np.where(no_ask, np.nan, ask_px),
        "ask_qty": np.where(no_ask, np.nan, np.asarray(data["ask_volume"], float)),
        "contract": contract,
    })


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
