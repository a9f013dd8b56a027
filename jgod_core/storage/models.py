"""SQLAlchemy 2 models of the J-GOD store (SPEC §7).

Every market row carries ``available_at``: the UTC instant from which it was public. Readers
take an as-of time and never return a row whose ``available_at`` is later (no look-ahead).
Timestamps are naive UTC in the database (portable across SQLite and PostgreSQL).

Rows written by the engine itself (factor values, attribution, orders, fills, audit records,
trading state) carry ``model_version`` and ``is_real_trade`` so any day can be replayed exactly.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every J-GOD table."""


class PublishedRow:
    """Provenance columns of a market row, placed after the table's own columns.

    ``source`` names the loader, ``available_at`` is the UTC instant from which the row was
    public (readers never return a row published after their as-of time) and ``updated_at``
    when the store last wrote it.
    """

    source: Mapped[str] = mapped_column(String(32))
    available_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


# -- reference data ------------------------------------------------------------------------------


class Security(Base):
    """Security master: code, name, type, market (TWSE/TPEx) and TWSE industry group."""

    __tablename__ = "securities"

    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(128))
    security_type: Mapped[str | None] = mapped_column(String(32))
    market: Mapped[str | None] = mapped_column(String(8))
    industry: Mapped[str | None] = mapped_column(String(64))
    isin: Mapped[str | None] = mapped_column(String(16))
    listed_on: Mapped[dt.date | None] = mapped_column(Date)
    cfi: Mapped[str | None] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


# -- daily market data -------------------------------------------------------------------------


class DailyBar(PublishedRow, Base):
    """Raw (unadjusted) daily bar of one security. ``halted``: no published price, volume 0.

    ``adj_factor`` is the factor the source published with the bar (raw × factor = adjusted),
    NULL when the source gives none; point-in-time factors come from :class:`AdjustmentEvent`.
    """

    __tablename__ = "daily_bars"
    __table_args__ = (UniqueConstraint("symbol", "date", name="uq_daily_bars_symbol_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[int | None] = mapped_column(BigInteger)
    trading_value: Mapped[float | None] = mapped_column(Float)
    trades: Mapped[int | None] = mapped_column(BigInteger)
    halted: Mapped[bool] = mapped_column(Boolean, default=False)
    adj_factor: Mapped[float | None] = mapped_column(Float)


class MarketDaily(PublishedRow, Base):
    """Daily bar of a market-level instrument: index, futures (per session), US series, FX.

    ``instrument`` is a short name (``taiex``, ``tx``, ``vix``, ``sp500`` …); ``session`` is
    ``regular`` or ``after_hours`` (TAIFEX night session dated by its closing day).
    """

    __tablename__ = "market_daily"
    __table_args__ = (
        UniqueConstraint("instrument", "session", "date", name="uq_market_daily_instrument_session_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instrument: Mapped[str] = mapped_column(String(32))
    session: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    contract: Mapped[str | None] = mapped_column(String(16))
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    settlement: Mapped[float | None] = mapped_column(Float)
    open_interest: Mapped[float | None] = mapped_column(Float)


class AdjustmentEvent(PublishedRow, Base):
    """A dividend or split on its ex-date: ``price_ratio`` = reference price after / close before.

    Backward adjustment as of t multiplies raw prices before each ex-date ≤ t by the ratios.
    """

    __tablename__ = "adjustment_events"
    __table_args__ = (UniqueConstraint("symbol", "ex_date", "kind", name="uq_adjustment_events"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    ex_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    price_ratio: Mapped[float] = mapped_column(Float)
    cash_dividend: Mapped[float | None] = mapped_column(Float)
    stock_dividend: Mapped[float | None] = mapped_column(Float)


class LoadRecord(Base):
    """One load or fetch: source, dataset, how many rows, when, and how it ended."""

    __tablename__ = "load_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(64))
    symbols: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str | None] = mapped_column(Text)


# -- post-close datasets (stamped with their publication time) ---------------------------------


class InstitutionalFlow(PublishedRow, Base):
    """Daily buy/sell shares of one investor class (foreign, trust, dealer …) in one security."""

    __tablename__ = "institutional_flows"
    __table_args__ = (UniqueConstraint("symbol", "date", "investor", name="uq_institutional_flows"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    investor: Mapped[str] = mapped_column(String(32))
    buy: Mapped[int | None] = mapped_column(BigInteger)
    sell: Mapped[int | None] = mapped_column(BigInteger)


class MarginDaily(PublishedRow, Base):
    """Daily margin purchase / short sale figures of one security (lots, as TWSE publishes)."""

    __tablename__ = "margin_daily"
    __table_args__ = (UniqueConstraint("symbol", "date", name="uq_margin_daily"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    margin_purchase_buy: Mapped[int | None] = mapped_column(BigInteger)
    margin_purchase_sell: Mapped[int | None] = mapped_column(BigInteger)
    margin_purchase_cash_repayment: Mapped[int | None] = mapped_column(BigInteger)
    margin_purchase_yesterday_balance: Mapped[int | None] = mapped_column(BigInteger)
    margin_purchase_today_balance: Mapped[int | None] = mapped_column(BigInteger)
    margin_purchase_limit: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_buy: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_sell: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_cash_repayment: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_yesterday_balance: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_today_balance: Mapped[int | None] = mapped_column(BigInteger)
    short_sale_limit: Mapped[int | None] = mapped_column(BigInteger)
    offset_loan_and_short: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(64))


class BrokerBranchDaily(PublishedRow, Base):
    """Shares one broker branch bought and sold of one security at one price on one day."""

    __tablename__ = "broker_branch_daily"
    __table_args__ = (UniqueConstraint("symbol", "date", "broker_id", "price", name="uq_broker_branch_daily"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    broker_id: Mapped[str] = mapped_column(String(16))
    broker_name: Mapped[str | None] = mapped_column(String(64))
    price: Mapped[float] = mapped_column(Float)
    buy: Mapped[int | None] = mapped_column(BigInteger)
    sell: Mapped[int | None] = mapped_column(BigInteger)


class MonthlyRevenue(PublishedRow, Base):
    """Monthly operating revenue (NT$) of one company; ``month`` is the first day of the month."""

    __tablename__ = "monthly_revenue"
    __table_args__ = (UniqueConstraint("symbol", "month", name="uq_monthly_revenue"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(16))
    month: Mapped[dt.date] = mapped_column(Date)
    revenue_twd: Mapped[float | None] = mapped_column(Float)


class IntradayBar(PublishedRow, Base):
    """One-minute (or k-minute) bar of a futures contract or security."""

    __tablename__ = "intraday_bars"
    __table_args__ = (
        UniqueConstraint("instrument", "contract", "bar_start", name="uq_intraday_bars"),
        Index("ix_intraday_bars_instrument_trade_date", "instrument", "trade_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instrument: Mapped[str] = mapped_column(String(32))
    contract: Mapped[str] = mapped_column(String(16))
    trade_date: Mapped[dt.date] = mapped_column(Date)
    session: Mapped[str] = mapped_column(String(16))
    bar_start: Mapped[dt.datetime] = mapped_column(DateTime)
    bar_minutes: Mapped[int] = mapped_column(Integer, default=1)
    open: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    close: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    trades: Mapped[int | None] = mapped_column(BigInteger)


# -- engine output -----------------------------------------------------------------------------


class FactorValue(Base):
    """One factor component value for a symbol ("*" = market-level) on a date, with the betas in force."""

    __tablename__ = "factor_values"
    __table_args__ = (
        UniqueConstraint("date", "symbol", "factor", "component", "model_version", name="uq_factor_values"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    symbol: Mapped[str] = mapped_column(String(16))
    factor: Mapped[str] = mapped_column(String(64))
    component: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    beta: Mapped[float | None] = mapped_column(Float)
    betas_json: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FactorBeta(Base):
    """A factor beta of a model version, from the date it takes effect, and why it changed."""

    __tablename__ = "factor_betas"
    __table_args__ = (UniqueConstraint("model_version", "factor", name="uq_factor_betas"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    model_version: Mapped[str] = mapped_column(String(64))
    factor: Mapped[str] = mapped_column(String(64))
    beta: Mapped[float] = mapped_column(Float)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AttributionResult(Base):
    """Post-market attribution of one day: performance, prediction residual, training decision."""

    __tablename__ = "attribution_results"
    __table_args__ = (
        UniqueConstraint("date", "model_version", "is_real_trade", name="uq_attribution_results"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    model_version: Mapped[str] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    sharpe_30d: Mapped[float | None] = mapped_column(Float)
    max_drawdown: Mapped[float | None] = mapped_column(Float)
    actual_return: Mapped[float | None] = mapped_column(Float)
    predicted_return: Mapped[float | None] = mapped_column(Float)
    residual: Mapped[float | None] = mapped_column(Float)
    trained: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    payload_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


# -- orders and audit (generic columns; details in payload_json) --------------------------------

#: Prices, fees and taxes of the order journal: exact decimals in the database (PostgreSQL
#: ``NUMERIC(20, 4)``: a tick is 0.01 and fees are whole NT$, so four places lose nothing), handed
#: to Python as floats because every computation on them (fills, reconciliation) is in floats of
#: already tick-rounded prices. SQLite has no decimal storage (NUMERIC affinity keeps REAL or
#: INTEGER and would hand back ``965`` for ``965.0``), so there the column stays REAL.
Money = Numeric(20, 4, asdecimal=False).with_variant(Float(), "sqlite")


class OrderRecord(Base):
    """A parent or child order as the router/broker saw it; status changes update the row."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    parent_order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime)
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float | None] = mapped_column(Money)
    order_type: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    broker: Mapped[str | None] = mapped_column(String(32))
    model_version: Mapped[str | None] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_json: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FillRecord(Base):
    """One execution of an order."""

    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fill_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime)
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Money)
    fee: Mapped[float | None] = mapped_column(Money)
    tax: Mapped[float | None] = mapped_column(Money)
    model_version: Mapped[str | None] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_json: Mapped[str | None] = mapped_column(Text)


class AuditRecord(Base):
    """Append-only, hash-chained audit log entry: ``hash = H(prev_hash, seq, ts, kind, payload …)``."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[dt.datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(32))
    payload_json: Mapped[str] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class TradingStateChange(Base):
    """Timeline of the trading state (ACTIVE / REDUCING / HALTED …): who changed it, when, why."""

    __tablename__ = "trading_state"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    is_real_trade: Mapped[bool] = mapped_column(Boolean, default=False)
