"""Base of the provider connectors: which datasets a source offers, where each one is stored, and
how to fetch one symbol's rows. :mod:`jgod_plugins.data.fetching` drives them."""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from jgod_core.plugin.components import DataKind, DataSource, Phase
from jgod_core.storage import models
from jgod_plugins.data.http import ConnectorParams, JsonClient


@dataclass(frozen=True)
class DatasetSpec:
    """A provider dataset: its table, the kind of symbol it takes and how rows are keyed for
    incremental fetches (``key_column`` = the symbol's value; ``date_column`` the row date).

    ``intraday_kind`` (``ticks`` | ``books`` | ``bbo``) sends the rows to the Parquet intraday
    store instead of ``table``; they then carry ``instrument`` and ``trade_date``.
    """

    table: type[models.Base] | None
    kind: DataKind
    symbol_kind: str = "stock"  # stock | futures | ticker | contract (checked by the connector)
    key_column: str = "symbol"
    date_column: str = "date"
    extra_key: tuple[tuple[str, str], ...] = ()
    intraday_kind: str | None = None


class Connector(DataSource[ConnectorParams], abc.ABC):
    """A provider connector. Subclasses declare ``datasets`` and implement :meth:`fetch`.

    :meth:`client` opens the session :meth:`fetch` receives (an HTTP :class:`JsonClient` by
    default; a context manager with an optional ``describe`` progress callback).
    """

    datasets: ClassVar[dict[str, DatasetSpec]] = {}
    phases = frozenset({Phase.PRE_MARKET, Phase.POST_MARKET})

    def client(self) -> JsonClient:
        """A rate-limited, retrying JSON client for this source (credentials from the environment)."""
        return JsonClient(self.name, self.params, self.headers())

    def headers(self) -> dict[str, str]:
        return {}

    def normalise_symbol(self, dataset: str, raw: str) -> str:
        """The provider's symbol for ``raw`` (raises a JGodError naming it when malformed)."""
        from jgod_core.data.symbols import normalize_symbol

        return normalize_symbol(raw)

    def store_key(self, dataset: str, symbol: str) -> str:
        """The value of ``key_column`` under which ``symbol``'s rows are stored."""
        return symbol

    def resume_from(self, dataset: str, last_stored: dt.date) -> dt.date:
        """First date an incremental fetch asks for, given the newest stored date."""
        return last_stored + dt.timedelta(days=1)

    def stored_filter(self, dataset: str, symbol: str) -> dict[str, str]:
        """Column values that select ``symbol``'s stored rows of ``dataset`` (incremental fetches)."""
        spec = self.datasets[dataset]
        return {spec.key_column: self.store_key(dataset, symbol), **dict(spec.extra_key)}

    @abc.abstractmethod
    def fetch(self, client, dataset: str, symbol: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Rows of ``dataset`` for ``symbol`` in ``[start, end]``, shaped like the dataset's table
        (with ``available_at``); an empty frame when the provider has none. Never writes."""
