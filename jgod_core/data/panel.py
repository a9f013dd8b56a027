"""Panels: point-in-time market data on a ``symbols × dates`` grid, and factor results on it.

Arrays are symbol-major and C-contiguous: ``fields["close"][i, j]`` is symbol ``i`` on date
``j``. Missing values are NaN. Nothing in a panel built "as of t" is stamped after t; market
series published after Taiwan's close (US indices, flows) are already shifted to the first
Taiwan date on which they were known.

Conventions:

- per-symbol fields: ``open, high, low, close`` (raw TWD), ``volume`` (shares), ``adj_factor``
  (multiply a raw price by it to get the dividend/split-adjusted price), ``halted`` (1.0 on a
  day with no published price, else 0.0);
- market series (``(dates,)`` arrays): ``taiex_close``, ``tx_close``, ``vix_close``,
  ``sp500_close``, ``es_close``, ``nasdaq100_close``, ``nq_close``, ``usdtwd`` … whatever the
  store holds; absent series are listed in ``missing`` with the reason;
- per-symbol attributes: ``industry``, ``market``, ``security_type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping

import numpy as np
import pandas as pd

from jgod_core.errors import MissingDataError

MARKET_SYMBOL = "*"


@dataclass(frozen=True)
class Panel:
    """Point-in-time data for a universe over trading dates."""

    symbols: tuple[str, ...]
    dates: np.ndarray  # (t,) datetime64[D], ascending trading days
    fields: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (n, t) float64
    series: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (t,) float64
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)  # name -> (n,) object
    missing: Mapping[str, str] = field(default_factory=dict)  # dataset/series -> reason absent
    _derived: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n, t = len(self.symbols), len(self.dates)
        for name, arr in self.fields.items():
            if arr.shape != (n, t):
                raise ValueError(f"field {name!r} has shape {arr.shape}, expected {(n, t)}")
        for name, arr in self.series.items():
            if arr.shape != (t,):
                raise ValueError(f"series {name!r} has shape {arr.shape}, expected {(t,)}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(symbols, dates)``."""
        return len(self.symbols), len(self.dates)

    def field(self, name: str) -> np.ndarray:
        """The ``(n, t)`` field ``name``; a :class:`MissingDataError` saying why when it is absent."""
        if name not in self.fields:
            raise MissingDataError(self.missing.get(name, f"field {name!r} is not in the panel"))
        return self.fields[name]

    def adjusted(self, name: str) -> np.ndarray:
        """A price field multiplied by ``adj_factor`` (the raw field when no factor is loaded)."""
        raw = self.field(name)
        factor = self.fields.get("adj_factor")
        return raw if factor is None else raw * factor

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """``build()``, computed once per panel instance and ``key``, then served from memory.

        For arrays several consumers derive from the same data (e.g. the factors' masked prices
        and betas). The panel's data is treated as immutable; the memo belongs to this instance
        only (``window`` and any new panel start empty), so there is no shared state.
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    def has_series(self, name: str) -> bool:
        """True when the market-level series ``name`` is loaded."""
        return name in self.series

    def why_missing(self, name: str) -> str:
        """Why field, series or symbol ``name`` is absent (the loader's reason when it gave one)."""
        return self.missing.get(name, f"{name!r} is not loaded")

    def window(self, start: int, stop: int) -> "Panel":
        """The panel restricted to date positions ``start:stop``."""
        return Panel(
            self.symbols,
            self.dates[start:stop],
            {k: np.ascontiguousarray(v[:, start:stop]) for k, v in self.fields.items()},
            {k: v[start:stop] for k, v in self.series.items()},
            self.attributes,
            self.missing,
        )

    @classmethod
    def from_long(
        cls,
        bars: pd.DataFrame,
        value_columns: list[str],
        series: Mapping[str, pd.Series] | None = None,
        attributes: pd.DataFrame | None = None,
        missing: Mapping[str, str] | None = None,
    ) -> "Panel":
        """Build a panel from long rows ``date, symbol, <value_columns>`` (dates become the grid)."""
        frame = bars.copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
        symbols = tuple(sorted(frame["symbol"].astype(str).unique()))
        dates = np.array(sorted(frame["date"].unique()), dtype="datetime64[D]")
        sym_index = pd.Index(symbols)
        date_index = pd.DatetimeIndex(dates.astype("datetime64[ns]"))
        rows = sym_index.get_indexer(frame["symbol"].astype(str))
        cols = date_index.get_indexer(frame["date"])
        fields = {}
        for column in value_columns:
            arr = np.full((len(symbols), len(dates)), np.nan)
            arr[rows, cols] = frame[column].to_numpy(dtype=float)
            fields[column] = arr
        aligned = {}
        for name, s in (series or {}).items():
            s = s.copy()
            s.index = pd.to_datetime(s.index).normalize()
            aligned[name] = s.reindex(date_index).to_numpy(dtype=float)
        attrs = {}
        if attributes is not None:
            attrs = {
                c: attributes.reindex(list(symbols))[c].to_numpy(dtype=object) for c in attributes.columns
            }
        return cls(symbols, dates, fields, aligned, attrs, dict(missing or {}))


@dataclass(frozen=True)
class FactorResult:
    """What a factor computes: a score and named components, plus what it could not compute.

    Per-symbol arrays are ``(n, t)``; market-wide components are ``(t,)`` and appear with
    symbol ``"*"`` in long format. ``missing`` maps a component name to the reason its input
    is absent; a missing component is never filled with a made-up value.
    """

    factor: str
    score: np.ndarray
    components: Mapping[str, np.ndarray] = field(default_factory=dict)
    missing: Mapping[str, str] = field(default_factory=dict)

    def to_long(self, panel: Panel) -> pd.DataFrame:
        """Long rows ``date, symbol, factor, component, value`` without NaN values."""
        n, t = panel.shape
        sym = np.asarray(panel.symbols, dtype=object)
        dates = panel.dates.astype("datetime64[ns]")
        frames = []
        for name, values in {"score": self.score, **self.components}.items():
            if values.ndim == 2:
                mask = ~np.isnan(values)
                si, di = np.nonzero(mask)
                symbols = sym[si]
                date_values = dates[di]
                data = values[mask]
            else:
                mask = ~np.isnan(values)
                date_values = dates[mask]
                symbols = np.full(mask.sum(), MARKET_SYMBOL, dtype=object)
                data = values[mask]
            frames.append(
                pd.DataFrame(
                    {"date": date_values, "symbol": symbols, "factor": self.factor, "component": name, "value": data}
                )
            )
        if not frames:
            return pd.DataFrame(columns=["date", "symbol", "factor", "component", "value"])
        return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Combination:
    """What a combiner computes on the panel's grid: one score and how it came about.

    ``score``: combined score ``(n, t)``, NaN where no factor has a value; ``contributions``:
    each term's part of the score ``(n, t)`` (e.g. ``w · z`` or ``w · z_a · z_b``), which the
    signals' ``reason`` names; ``standardized``: each factor step's standardised score ``(n, t)``
    (what the IC and the report's correlations are computed on); ``min_abs_score``: scores
    closer to 0 than this give no signal and no position.
    """

    score: np.ndarray
    contributions: Mapping[str, np.ndarray] = field(default_factory=dict)
    standardized: Mapping[str, np.ndarray] = field(default_factory=dict)
    min_abs_score: float = 0.0
