"""Shioaji broker: approved child orders to Sinopac through the real ``shioaji`` package.

Credentials come only from the environment (``SecretRef`` params such as ``${SHIOAJI_API_KEY}``),
are resolved at :meth:`ShioajiBroker.connect`, and never appear in logs, the audit or error text
(exception messages are scrubbed of every secret value before they are re-raised).

Mapping: a child order becomes ``sj.StockOrder(action, price, quantity=lots, price_type=LMT,
time_in_force=ROD|IOC|FOK, order_lot=Common|IntradayOdd, custom_field=<last 6 chars of the
client id>)`` placed with ``api.place_order(api.Contracts.Stocks[code], order)``; order and deal
events arrive through ``api.set_order_callback`` (``OrderState.StockOrder`` / ``StockDeal``, the
documented dict layouts) and become order-status updates and :class:`~jgod_core.execution.orders.Fill`
objects. A futures child (TX/MTX, in contracts) becomes ``sj.FuturesOrder(action, price, quantity=contracts,
price_type=LMT, order_type=ROD|IOC|FOK, octype=Auto, account=api.futopt_account)`` on
``api.Contracts.Futures[code]`` (TX → TXFR1 resolved to its dated ``target_code``, TXF202606 → TXFF6);
``FuturesOrder`` / ``FuturesDeal`` events (``FORDER`` / ``FDEAL``) map like the stock ones, fills in
contracts with the contract multiplier, the futures tax and ``futures_fee_per_contract``.
Login, and re-login after ``on_session_down``, retry with exponential backoff.
``simulation: true`` uses Sinopac's simulation environment; ``false`` sends real orders.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any, Callable, Mapping

from pydantic import Field
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from jgod_core import Broker, JGodError, Params, SecretRef, resolve_secret
from jgod_core.execution.orders import AccountReport, ChildOrder, Fill, OrderStatus, Side, TimeInForce, to_price
from jgod_plugins.tw_market.rules import BOARD_LOT_SHARES, commission, futures_tax, sell_tax


class ShioajiParams(Params):
    simulation: bool = Field(True, description="Sinopac simulation environment (false sends real orders).")
    api_key: SecretRef = Field("${SHIOAJI_API_KEY}", description="API key, from the environment.")
    secret_key: SecretRef = Field("${SHIOAJI_SECRET_KEY}", description="Secret key, from the environment.")
    login_attempts: int = Field(5, ge=1, le=20, description="Login tries before giving up.")
    backoff_seconds: float = Field(1.0, gt=0, le=60, description="First retry wait; doubles each try.")
    max_backoff_seconds: float = Field(30.0, gt=0, le=600, description="Longest wait between tries.")
    timeout_ms: int = Field(30_000, ge=1000, le=120_000, description="Timeout of one place/cancel call.")
    commission_discount: float = Field(1.0, gt=0, le=1, description="Broker discount used to book fees.")
    futures_fee_per_contract: float = Field(0.0, ge=0, le=5000, description="Futures: the broker's fee per contract "
                                                                            "and side, NT$ (0: not booked).")


class ShioajiError(JGodError):
    """Sinopac refused or could not be reached (message scrubbed of secrets)."""


def _default_api_factory(simulation: bool) -> Any:
    import shioaji as sj

    return sj.Shioaji(simulation=simulation)


class ShioajiBroker(Broker):
    """Sends approved child orders to Sinopac (Shioaji) and turns deal callbacks into fills."""

    name = "shioaji"
    version = "1.0.0"
    Params = ShioajiParams

    def sends_real_orders(self) -> bool:
        """Real orders unless the params select Sinopac's simulation environment."""
        return not self.params.simulation

    def __init__(self, params: ShioajiParams | None = None, api_factory: Callable[[bool], Any] | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        super().__init__(params)
        self._api_factory = api_factory or _default_api_factory
        self._sleep = sleep
        self.api: Any = None
        self._secrets: tuple[str, ...] = ()
        self._credentials: tuple[str, str] | None = None
        self.trades: dict[str, Any] = {}  # client order id -> shioaji Trade
        self.orders: dict[str, ChildOrder] = {}
        self.status: dict[str, OrderStatus] = {}
        self._by_broker_id: dict[str, str] = {}
        self._fills: list[Fill] = []
        self._early: dict[str, list[tuple[Any, dict]]] = {}  # callbacks for ids not yet returned by place_order
        self._lock = threading.Lock()

    # -- connection ------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def connect(self, environ: Mapping[str, str] | None = None) -> None:
        """Resolve the credentials from the environment and log in (with backoff)."""
        key = resolve_secret(self.params.api_key, dict(environ) if environ is not None else None)
        secret = resolve_secret(self.params.secret_key, dict(environ) if environ is not None else None)
        self._secrets = (key or "", secret or "")
        self._credentials = (key or "", secret or "")
        self._login()

    def _login(self) -> None:
        assert self._credentials is not None
        key, secret = self._credentials
        retry_kwargs: dict[str, Any] = dict(
            stop=stop_after_attempt(self.params.login_attempts),
            wait=wait_exponential(multiplier=self.params.backoff_seconds, max=self.params.max_backoff_seconds),
            retry=retry_if_exception_type(Exception), reraise=True)
        if self._sleep is not None:
            retry_kwargs["sleep"] = self._sleep
        try:
            for attempt in Retrying(**retry_kwargs):
                with attempt:
                    api = self._api_factory(self.params.simulation)
                    api.login(api_key=key, secret_key=secret)
        except Exception as exc:  # noqa: BLE001 - any SDK failure becomes a scrubbed, located error
            raise ShioajiError(f"shioaji login failed after {self.params.login_attempts} attempt(s): "
                               f"{self._scrub(f'{type(exc).__name__}: {exc}')}") from None
        self.api = api
        api.set_order_callback(self._on_order_event)
        if hasattr(api, "on_session_down"):
            api.on_session_down(self._on_session_down)

    def _on_session_down(self) -> None:
        self._login()

    def _require_api(self) -> Any:
        if self.api is None:
            raise ShioajiError("shioaji broker is not connected; call connect() first")
        return self.api

    # -- orders ----------------------------------------------------------------------------------

    def build_order(self, order: ChildOrder) -> Any:
        """The ``sj.StockOrder`` for a child order (whole lots, or shares in the intraday odd-lot session);
        for a futures order the ``sj.FuturesOrder`` (contracts, LMT, ROD/IOC/FOK as ``order_type``,
        ``octype=Auto``: the exchange opens or covers, on ``api.futopt_account``)."""
        import shioaji as sj

        api = self._require_api()
        if order.is_future:
            return sj.FuturesOrder(
                action=sj.Action.Buy if order.side is Side.BUY else sj.Action.Sell, price=float(order.limit_price),
                quantity=int(order.quantity), price_type=sj.FuturesPriceType.LMT,
                order_type={TimeInForce.ROD: sj.OrderType.ROD, TimeInForce.IOC: sj.OrderType.IOC,
                            TimeInForce.FOK: sj.OrderType.FOK}[order.time_in_force],
                octype=sj.FuturesOCType.Auto, custom_field=order.client_order_id[-6:],
                account=getattr(api, "futopt_account", None))
        quantity = order.quantity if order.odd_lot else order.quantity // BOARD_LOT_SHARES
        tif = {TimeInForce.ROD: sj.TimeInForce.ROD, TimeInForce.IOC: sj.TimeInForce.IOC,
               TimeInForce.FOK: sj.TimeInForce.FOK}[order.time_in_force]
        return sj.StockOrder(
            action=sj.Action.Buy if order.side is Side.BUY else sj.Action.Sell,
            price=float(order.limit_price), quantity=int(quantity), price_type=sj.StockPriceType.LMT,
            time_in_force=tif, order_lot=sj.StockOrderLot.IntradayOdd if order.odd_lot else sj.StockOrderLot.Common,
            custom_field=order.client_order_id[-6:], account=getattr(api, "stock_account", None))

    def submit(self, approved) -> list[Fill]:
        order: ChildOrder = approved.order
        cid = order.client_order_id
        if cid in self.trades:
            return []  # a retried submit with the same client id never sends twice
        api = self._require_api()
        contract = futures_contract_of(api, order.symbol) if order.is_future else api.Contracts.Stocks[order.symbol]
        try:
            trade = api.place_order(contract, self.build_order(order), timeout=self.params.timeout_ms)
        except Exception as exc:  # noqa: BLE001
            raise ShioajiError(f"place_order {cid} failed: {self._scrub(f'{type(exc).__name__}: {exc}')}") from None
        with self._lock:
            self.trades[cid] = trade
            self.orders[cid] = order
            self.status[cid] = OrderStatus.SUBMITTED
            broker_id = getattr(getattr(trade, "order", None), "id", None)
            if broker_id:
                self._by_broker_id[str(broker_id)] = cid
                for state, message in self._early.pop(str(broker_id), []):  # callbacks that beat place_order
                    self._dispatch(state, message)
        return self.drain_fills()

    def cancel(self, client_order_id: str) -> bool:
        trade = self.trades.get(client_order_id)
        if trade is None or self.status.get(client_order_id, OrderStatus.NEW).is_terminal:
            return False
        try:
            self._require_api().cancel_order(trade, timeout=self.params.timeout_ms)
        except Exception as exc:  # noqa: BLE001
            raise ShioajiError(f"cancel_order {client_order_id} failed: {self._scrub(str(exc))}") from None
        return True

    def cancel_all(self, reason: str = "") -> list[str]:
        api = self._require_api()
        api.update_status(getattr(api, "stock_account", None))
        return [cid for cid, status in list(self.status.items()) if status.is_working and self.cancel(cid)]

    def open_orders(self) -> list[ChildOrder]:
        return [self.orders[cid] for cid, s in self.status.items() if s.is_working]

    # -- account -------------------------------------------------------------------------------

    def account(self) -> AccountReport:
        """Positions and cash of the stock account, as Sinopac reports them.

        Positions: ``api.list_positions(api.stock_account, unit=Unit.Share)`` (``StockPosition``:
        ``code``, ``direction`` Buy/Sell, ``quantity`` in shares with ``Unit.Share``); rows of one
        code (cash, margin, short) are netted, sells count negative. Cash: ``api.account_balance``
        (``AccountBalance.acc_balance``: the settlement bank account at ``date``) plus every
        ``api.settlements`` amount (``SettlementV1``: ``date``, ``amount``, ``T``; > 0 the account
        receives, < 0 it pays) dated after the balance — the cash the account holds once the
        trades already done have settled. An ``errmsg`` leaves cash unreported (None).
        """
        import shioaji as sj

        api = self._require_api()
        account = getattr(api, "stock_account", None)
        try:
            rows = api.list_positions(account, unit=sj.Unit.Share, timeout=self.params.timeout_ms)
            balance = api.account_balance(account, timeout=self.params.timeout_ms)
            settlements = api.settlements(account, timeout=self.params.timeout_ms)
        except Exception as exc:  # noqa: BLE001
            raise ShioajiError(f"account report failed: {self._scrub(f'{type(exc).__name__}: {exc}')}") from None
        positions: dict[str, int] = {}
        for row in rows or ():
            sign = -1 if getattr(row.direction, "value", str(row.direction)) == "Sell" else 1
            positions[str(row.code)] = positions.get(str(row.code), 0) + sign * int(row.quantity)
        positions = {code: q for code, q in positions.items() if q}
        if balance is None or getattr(balance, "errmsg", ""):
            why = getattr(balance, "errmsg", "") or "no answer"
            return AccountReport(positions, None, f"account_balance: {self._scrub(str(why))}")
        as_of = dt.datetime.fromisoformat(str(balance.date)[:19]) if balance.date else None
        pending = [s for s in settlements or () if as_of is None or _as_date(s.date) > as_of.date()]
        cash = float(balance.acc_balance) + sum(float(s.amount) for s in pending)
        basis = (f"account_balance {float(balance.acc_balance):,.0f} at {balance.date} + "
                 f"{len(pending)} later settlement(s) {sum(float(s.amount) for s in pending):+,.0f}")
        return AccountReport(positions, cash, basis, as_of)

    # -- callbacks -------------------------------------------------------------------------------

    def _on_order_event(self, state: Any, message: dict) -> None:
        """Order/deal callback (SDK thread). An event for an id ``place_order`` has not returned yet is
        kept and replayed once the id is known: Sinopac may call back before ``place_order`` returns."""
        kind = getattr(state, "value", str(state))
        broker_id = str(message.get("trade_id", "") if kind.endswith("DEAL") else message.get("order", {}).get("id", ""))
        with self._lock:
            if broker_id and broker_id not in self._by_broker_id:
                self._early.setdefault(broker_id, []).append((state, message))
                return
            self._dispatch(state, message)

    def _dispatch(self, state: Any, message: dict) -> None:
        kind = getattr(state, "value", str(state))
        if kind in ("SDEAL", "FDEAL"):
            fill = self.deal_to_fill(message)
            if fill is not None:
                self._fills.append(fill)
        elif kind in ("SORDER", "FORDER"):
            self._apply_order_event(message)

    def _apply_order_event(self, message: dict) -> None:
        cid = self._by_broker_id.get(str(message.get("order", {}).get("id", "")))
        if cid is None:
            return
        op = message.get("operation", {})
        if op.get("op_code") != "00":
            self.status[cid] = OrderStatus.REJECTED
        elif op.get("op_type") == "New":
            self.status[cid] = OrderStatus.ACCEPTED
        elif op.get("op_type") == "Cancel":
            self.status[cid] = OrderStatus.CANCELLED

    def deal_to_fill(self, deal: dict) -> Fill | None:
        """A :class:`Fill` from a documented ``StockDeal`` callback dict (None for unknown orders)."""
        cid = self._by_broker_id.get(str(deal.get("trade_id", "")))
        if cid is None:
            return None
        order = self.orders[cid]
        price = to_price(deal["price"])
        side = Side.BUY if deal.get("action") == "Buy" else Side.SELL
        if order.is_future:  # FuturesDeal: quantity in contracts; fee per contract, futures tax on both sides
            shares = int(deal["quantity"])
            notional = float(price) * shares * order.multiplier
            fee = int(round(self.params.futures_fee_per_contract * shares))
            tax = int(futures_tax(notional))
        else:
            lots = deal.get("order_lot", "Common") == "Common"
            shares = int(deal["quantity"]) * (BOARD_LOT_SHARES if lots else 1)
            notional = float(price) * shares
            fee = int(commission(notional, discount=self.params.commission_discount))
            tax = int(sell_tax(notional, order.is_etf)) if side is Side.SELL else 0
        ts = dt.datetime.fromtimestamp(float(deal["ts"]), dt.timezone.utc).replace(tzinfo=None)
        filled = sum(f.quantity for f in self._fills if f.client_order_id == cid) + shares
        self.status[cid] = OrderStatus.FILLED if filled >= order.quantity else OrderStatus.PARTIALLY_FILLED
        return Fill(cid, order.symbol, side, shares, price, fee, tax, ts, "broker",
                    f"{deal.get('ordno', '')}-{deal.get('exchange_seq', '')}", order.multiplier)

    def drain_fills(self) -> list[Fill]:
        """Fills received since the last call."""
        with self._lock:
            fills, self._fills = self._fills, []
        return fills


def _as_date(value: Any) -> dt.date:
    """A settlement date (``datetime.date`` in shioaji 1.7, an ISO string in older payloads)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_MONTH_CODES = "ABCDEFGHIJKL"  # TAIFEX futures delivery months January .. December
_SHIOAJI_ROOT = {"TX": "TXF", "TXF": "TXF", "MTX": "MXF", "MXF": "MXF"}


def shioaji_futures_code(symbol: str) -> str:
    """Shioaji's code of a TAIFEX futures symbol: TX/TXF → TXFR1 (the near month), TXF202606 → TXFF6,
    TXFF6 / TXFR2 unchanged; MTX spells MXF."""
    match = re.match(r"^(TXF|MXF|MTX|TX)(.*)$", symbol.strip().upper())
    if match is None:
        raise ShioajiError(f"{symbol!r} is not a TAIFEX TX/MTX futures symbol")
    root, rest = _SHIOAJI_ROOT[match.group(1)], match.group(2)
    if not rest:
        return root + "R1"
    if re.fullmatch(r"\d{6}", rest):
        return f"{root}{_MONTH_CODES[int(rest[4:]) - 1]}{rest[3]}"
    return root + rest


def futures_contract_of(api: Any, symbol: str) -> Any:
    """The ``api.Contracts.Futures`` contract to order ``symbol`` on; a continuous code (R1, R2) resolves to
    the dated contract it points at (``target_code``), the one TAIFEX trades."""
    code = shioaji_futures_code(symbol)
    try:
        contract = api.Contracts.Futures[code]
        target = getattr(contract, "target_code", "") or ""
        return api.Contracts.Futures[target] if target and target != code else contract
    except (KeyError, IndexError, TypeError):
        raise ShioajiError(f"no Shioaji futures contract {code!r} for {symbol!r}") from None
