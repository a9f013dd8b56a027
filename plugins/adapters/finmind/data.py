"""FinMind API v4 connector (https://api.finmindtrade.com/api/v4, documented HTTP API).

Datasets: TaiwanStockPrice → daily bars, TaiwanStockInstitutionalInvestorsBuySell →
institutional flows, TaiwanStockMarginPurchaseShortSale → margin, TaiwanStockTradingDailyReport
→ broker branches (one request per trading day), TaiwanFuturesDaily → market daily (near-month
contract per session), TaiwanStockDividendResult / TaiwanStockSplitPrice → adjustment events.
Token: ``FINMIND_TOKEN`` in the environment (sent as ``Authorization: Bearer``); anonymous use
works within FinMind's smaller quota. Over quota FinMind answers 402, which is retried.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import numpy as np
import pandas as pd
from pydantic import Field

from jgod_core.plugin.components import DataKind
from jgod_core.storage import models
from jgod_plugins.data.connector import Connector, DatasetSpec
from jgod_plugins.data.http import ConnectorParams, FetchError, JsonClient, TransientFetchError
from jgod_plugins.tw_market import timing
from jgod_plugins.tw_market.calendar import trading_days

TOKEN_ENV = "FINMIND_TOKEN"
_FUTURES_ID = re.compile(r"^[A-Z]{2,4}$")
_MONTHLY_CONTRACT = re.compile(r"^\d{6}$")
SPECIAL_ENDPOINTS = {"TaiwanStockTradingDailyReport": "taiwan_stock_trading_daily_report"}


class FinMindParams(ConnectorParams):
    """FinMind endpoint and budget (the free tier allows about 600 requests an hour with a token)."""

    base_url: str = Field("https://api.finmindtrade.com/api/v4", min_length=1, description="FinMind API v4 base URL.")
    calls_per_minute: float = Field(10.0, gt=0, le=6000, description="Request budget of this source.")


class FinMindSource(Connector):
    """FinMind: TWSE/TPEx daily prices, institutional flows, margin, broker branches, TAIFEX daily, dividends/splits.

    Inputs: FinMind API v4 over HTTP. Rows are stamped with their publication time
    (:mod:`jgod_plugins.tw_market.timing`). No warm-up.
    """

    name = "finmind"
    version = "1.0.0"
    Params = FinMindParams
    datasets = {
        "TaiwanStockPrice": DatasetSpec(models.DailyBar, DataKind.DAILY_BARS),
        "TaiwanStockInstitutionalInvestorsBuySell": DatasetSpec(models.InstitutionalFlow, DataKind.INSTITUTIONAL_FLOWS),
        "TaiwanStockMarginPurchaseShortSale": DatasetSpec(models.MarginDaily, DataKind.MARGIN),
        "TaiwanStockTradingDailyReport": DatasetSpec(models.BrokerBranchDaily, DataKind.BROKER_BRANCHES),
        "TaiwanFuturesDaily": DatasetSpec(models.MarketDaily, DataKind.FUTURES_DAILY, "futures", "instrument",
                                          extra_key=(("session", "regular"),)),
        "TaiwanStockDividendResult": DatasetSpec(models.AdjustmentEvent, DataKind.DAILY_BARS, date_column="ex_date",
                                                 extra_key=(("kind", "dividend"),)),
        "TaiwanStockSplitPrice": DatasetSpec(models.AdjustmentEvent, DataKind.DAILY_BARS, date_column="ex_date",
                                             extra_key=(("kind", "split"),)),
    }
    requires = frozenset()

    def headers(self) -> dict[str, str]:
        token = os.environ.get(TOKEN_ENV)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def normalise_symbol(self, dataset: str, raw: str) -> str:
        if self.datasets[dataset].symbol_kind == "futures":
            code = raw.strip().upper()
            if not _FUTURES_ID.match(code):
                raise FetchError(self.name, dataset, raw, "not a TAIFEX futures id (e.g. TX, MTX)")
            return code
        return super().normalise_symbol(dataset, raw)

    def store_key(self, dataset: str, symbol: str) -> str:
        return symbol.lower() if self.datasets[dataset].symbol_kind == "futures" else symbol

    # -- requests ------------------------------------------------------------------------------

    def _rows(self, client: JsonClient, dataset: str, symbol: str, query: dict) -> list[dict]:
        path = "/" + SPECIAL_ENDPOINTS.get(dataset, "data")

        def over_limit(body) -> None:
            if isinstance(body, dict) and body.get("status") == 402:
                raise TransientFetchError(self.name, dataset, symbol, str(body.get("msg", "request limit reached")))

        body = client.get_json(path, query, dataset, symbol, check=over_limit)
        status = body.get("status", 200) if isinstance(body, dict) else None
        if status not in (200, None):
            raise FetchError(self.name, dataset, symbol, f"FinMind status {status}: {body.get('msg', '')}")
        if not isinstance(body, dict) or "data" not in body:
            raise FetchError(self.name, dataset, symbol, f"unexpected response shape: {str(body)[:120]}")
        data = body["data"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise FetchError(self.name, dataset, symbol, "`data` is not a list of rows")
        return data

    def fetch(self, client: JsonClient, dataset: str, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        if dataset == "TaiwanStockTradingDailyReport":
            rows: list[dict] = []
            for day in trading_days(start, end):
                rows += self._rows(client, dataset, symbol, {"data_id": symbol, "date": str(day)})
        else:
            rows = self._rows(client, dataset, symbol, {
                "dataset": dataset, "data_id": symbol, "start_date": start.isoformat(), "end_date": end.isoformat(),
            })
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        try:
            shaped = getattr(self, "_shape_" + dataset)(frame, symbol)
        except (KeyError, ValueError, TypeError) as exc:
            raise FetchError(self.name, dataset, symbol, f"malformed rows ({type(exc).__name__}: {exc})") from None
        shaped = shaped[(pd.to_datetime(shaped[self.datasets[dataset].date_column]).dt.date >= start)
                        & (pd.to_datetime(shaped[self.datasets[dataset].date_column]).dt.date <= end)]
        shaped["source"] = self.name
        shaped["updated_at"] = timing.utc_now()
        return shaped.reset_index(drop=True)

    # -- one shaper per dataset: FinMind columns → table columns -----------------------------------

    @staticmethod
    def _dates(frame: pd.DataFrame) -> pd.Series:
        return pd.to_datetime(frame["date"], format="%Y-%m-%d")

    def _shape_TaiwanStockPrice(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        dates = self._dates(f)
        prices = f[["open", "max", "min", "close"]].astype(float)
        volume = f["Trading_Volume"].astype("int64")
        halted = (prices.fillna(0) == 0).all(axis=1) & (volume == 0)  # TWSE prints "--", FinMind 0
        prices = prices.mask(halted, axis=0)
        return pd.DataFrame({
            "symbol": f["stock_id"].astype(str), "date": dates.dt.date,
            "open": prices["open"], "high": prices["max"], "low": prices["min"], "close": prices["close"],
            "volume": volume, "trading_value": f["Trading_money"].astype(float),
            "trades": f["Trading_turnover"].astype("int64"), "halted": halted,
            "available_at": timing.taipei_stamp(dates, timing.TWSE_CLOSE),
        })

    def _shape_TaiwanStockInstitutionalInvestorsBuySell(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        dates = self._dates(f)
        return pd.DataFrame({
            "symbol": f["stock_id"].astype(str), "date": dates.dt.date, "investor": f["name"].astype(str),
            "buy": f["buy"].astype("int64"), "sell": f["sell"].astype("int64"),
            "available_at": timing.taipei_stamp(dates, timing.INSTITUTIONAL_FLOWS_PUBLISHED),
        })

    _MARGIN_COLUMNS = {
        "MarginPurchaseBuy": "margin_purchase_buy", "MarginPurchaseSell": "margin_purchase_sell",
        "MarginPurchaseCashRepayment": "margin_purchase_cash_repayment",
        "MarginPurchaseYesterdayBalance": "margin_purchase_yesterday_balance",
        "MarginPurchaseTodayBalance": "margin_purchase_today_balance", "MarginPurchaseLimit": "margin_purchase_limit",
        "ShortSaleBuy": "short_sale_buy", "ShortSaleSell": "short_sale_sell",
        "ShortSaleCashRepayment": "short_sale_cash_repayment", "ShortSaleYesterdayBalance": "short_sale_yesterday_balance",
        "ShortSaleTodayBalance": "short_sale_today_balance", "ShortSaleLimit": "short_sale_limit",
        "OffsetLoanAndShort": "offset_loan_and_short",
    }

    def _shape_TaiwanStockMarginPurchaseShortSale(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        dates = self._dates(f)
        out = pd.DataFrame({"symbol": f["stock_id"].astype(str), "date": dates.dt.date})
        for source_column, column in self._MARGIN_COLUMNS.items():
            out[column] = f[source_column].astype("int64")
        out["note"] = f["Note"].astype(str)
        out["available_at"] = timing.taipei_stamp(dates, timing.MARGIN_PUBLISHED)
        return out

    def _shape_TaiwanStockTradingDailyReport(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        dates = self._dates(f)
        return pd.DataFrame({
            "symbol": f["stock_id"].astype(str), "date": dates.dt.date,
            "broker_id": f["securities_trader_id"].astype(str), "broker_name": f["securities_trader"].astype(str),
            "price": f["price"].astype(float), "buy": f["buy"].astype("int64"), "sell": f["sell"].astype("int64"),
            "available_at": timing.taipei_stamp(dates, timing.BROKER_BRANCHES_PUBLISHED),
        })

    def _shape_TaiwanFuturesDaily(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        f = f[f["contract_date"].astype(str).str.match(_MONTHLY_CONTRACT)].copy()
        f["contract_date"] = f["contract_date"].astype(str)
        # The near-month contract: the earliest monthly contract trading that day, per session.
        near = f.sort_values("contract_date").groupby(["date", "trading_session"], as_index=False).first()
        dates = self._dates(near)
        regular = (near["trading_session"] == "position").to_numpy()
        return pd.DataFrame({
            "instrument": symbol.lower(), "session": np.where(regular, "regular", "after_hours"),
            "date": dates.dt.date, "contract": near["contract_date"],
            "open": near["open"].astype(float), "high": near["max"].astype(float), "low": near["min"].astype(float),
            "close": near["close"].astype(float), "volume": near["volume"].astype(float),
            "settlement": near["settlement_price"].astype(float).where(near["settlement_price"] > 0),
            "open_interest": near["open_interest"].astype(float).where(regular),
            "available_at": np.where(regular, timing.taipei_stamp(dates, timing.TAIFEX_REGULAR_CLOSE),
                                     timing.taipei_stamp(dates, timing.TAIFEX_AFTER_HOURS_CLOSE)),
        })

    def _adjustment(self, f: pd.DataFrame, kind: str, cash: pd.Series | None) -> pd.DataFrame:
        dates = self._dates(f)
        before, after = f["before_price"].astype(float), f["after_price"].astype(float)
        if (before <= 0).any() or (after <= 0).any():
            raise ValueError("before_price and after_price must be positive")
        return pd.DataFrame({
            "symbol": f["stock_id"].astype(str), "ex_date": dates.dt.date, "kind": kind,
            "price_ratio": after / before, "cash_dividend": cash, "stock_dividend": None,
            # Ex-right reference prices are announced before the ex-date; visible from its pre-open.
            "available_at": timing.taipei_stamp(dates, dt.time(8, 0)),
        })

    def _shape_TaiwanStockDividendResult(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        cash = f["stock_and_cache_dividend"].astype(float).where(f["stock_or_cache_dividend"] == "息")
        return self._adjustment(f, "dividend", cash)

    def _shape_TaiwanStockSplitPrice(self, f: pd.DataFrame, symbol: str) -> pd.DataFrame:
        return self._adjustment(f[f["stock_id"].astype(str) == symbol], "split", None)
