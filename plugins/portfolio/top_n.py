"""``top_n``: target weights of the ``top_n`` best-scored names, rebalanced every ``rebalance_days``.

What it computes: on each decision day (``first_day``, then every ``rebalance_days`` trading
days up to ``last_day``) the target weights of the names with the strongest combined score:
long-only the ``top_n`` highest positive scores; long-short also the ``top_n`` lowest negative
scores, short. Each name gets ``gross_exposure / top_n`` (long-short: half per side), at most
``max_weight``, and the names of one industry together at most ``sector_cap`` per side.

Inputs: the combined score, the combination's ``min_abs_score``, the panel's ``close`` and
``halted`` (a name without a close or halted at the decision is not eligible) and its
``industry`` attribute. Lag: none added (a decision at the close of ``t`` reads ``t`` only; the
backtester trades it later). Warm-up: none. The default portfolio constructor: a pipeline's
``portfolio:`` section without ``plugin:`` is this one, with its params beside it.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Sequence

import numpy as np
import pandas as pd
from numba import njit
from pydantic import Field

from jgod_core.data.panel import Combination, Panel
from jgod_core.plugin.components import Params, PortfolioConstructor


class TopNParams(Params):
    """Params of :class:`TopN` (the keys of a pipeline's ``portfolio:`` section)."""

    mode: Literal["long_only", "long_short"] = Field("long_only", description="Hold longs only, or longs and shorts.")
    top_n: int = Field(10, ge=1, le=2000, description="Names held on each side.")
    max_weight: float = Field(0.10, gt=0, le=1, description="Largest weight of one name.")
    sector_cap: float = Field(0.30, gt=0, le=1, description="Largest total weight of one industry group.")
    gross_exposure: float = Field(1.0, gt=0, le=2, description="Sum of absolute weights.")
    rebalance_days: int = Field(5, ge=1, le=252, description="Trading days between rebalances.")


@njit(cache=True)
def _pick_side(score, sector, n_sectors, sign, top_n, base_weight, max_weight, sector_cap, min_abs, out):
    """Greedy in score order: up to ``top_n`` names on one side, each ``min(base, max, sector room)``."""
    m = score.shape[0]
    keyed = np.empty(m)
    for i in range(m):
        s = score[i] * sign
        keyed[i] = -s if s == s and s > min_abs else np.inf
    order = np.argsort(keyed, kind="mergesort")
    used = np.zeros(n_sectors + 1)
    taken = 0
    for q in range(m):
        i = order[q]
        if keyed[i] == np.inf or taken >= top_n:
            break
        g = sector[i] if sector[i] >= 0 else n_sectors
        room = sector_cap - used[g] if sector[i] >= 0 else max_weight
        w = min(base_weight, max_weight, room)
        if w <= 1e-12:
            continue
        used[g] += w
        out[i] = sign * w
        taken += 1


@njit(cache=True)
def _target_weights_kernel(score, eligible, sector, n_sectors, decision, long_short, top_n, max_weight,
                           sector_cap, gross, min_abs):
    n, t = score.shape
    out = np.full((n, t), np.nan)
    side_gross = gross / 2.0 if long_short else gross
    base = side_gross / top_n
    for j in range(t):
        if not decision[j]:
            continue
        column = np.where(eligible[:, j], score[:, j], np.nan)
        w = np.zeros(n)
        _pick_side(column, sector, n_sectors, 1.0, top_n, base, max_weight, sector_cap, min_abs, w)
        if long_short:
            _pick_side(column, sector, n_sectors, -1.0, top_n, base, max_weight, sector_cap, min_abs, w)
        for i in range(n):
            # a name without a score, or not eligible today, keeps its standing target (NaN)
            out[i, j] = w[i] if column[i] == column[i] else np.nan
    return out


def rebalance_days(n_dates: int, first: int, last: int, every: int) -> np.ndarray:
    """Boolean ``(t,)``: decision dates ``first, first+every, …`` up to ``last`` (inclusive)."""
    days = np.zeros(n_dates, dtype=bool)
    if first <= last:
        days[first:last + 1:every] = True
    return days


def target_weights(
    score: np.ndarray,
    portfolio: TopNParams,
    decision_days: np.ndarray,
    industry: Sequence[object] | None = None,
    eligible: np.ndarray | None = None,
    min_abs_score: float = 0.0,
) -> np.ndarray:
    """Target weights ``(n, t)`` on decision days (NaN columns elsewhere).

    Long-only: the ``top_n`` highest positive scores; long-short: also the ``top_n`` lowest
    negative scores, short. Each name gets ``gross / top_n`` (long-short: ``gross / 2 / top_n``
    per side), at most ``max_weight``, and the names of one industry together at most
    ``sector_cap`` per side (greedy in score order; a name that does not fit is skipped).
    Fewer qualifying names leave the rest in cash. Names without an industry are uncapped
    by sector. ``eligible`` (n, t) excludes names (e.g. halted at the decision).
    """
    score = np.ascontiguousarray(score, dtype=np.float64)
    n, _ = score.shape
    if industry is None:
        codes, n_groups = np.full(n, -1, dtype=np.int64), 0
    else:
        labels = pd.Series(list(industry), dtype=object)
        known = labels.notna() & (labels.astype(str).str.len() > 0)
        factorized, uniques = pd.factorize(labels.where(known))
        codes, n_groups = factorized.astype(np.int64), len(uniques)
    if eligible is None:
        eligible = np.ones(score.shape, dtype=bool)
    return _target_weights_kernel(
        score, np.ascontiguousarray(eligible, dtype=np.bool_), codes, n_groups,
        np.ascontiguousarray(decision_days, dtype=np.bool_), portfolio.mode == "long_short",
        int(portfolio.top_n), float(portfolio.max_weight), float(portfolio.sector_cap),
        float(portfolio.gross_exposure), float(min_abs_score),
    )


def eligible_names(panel: Panel) -> np.ndarray:
    """``(n, t)``: True where a name has a close and is not halted (it may be picked that day)."""
    halted = panel.fields.get("halted")
    close = panel.field("close")
    return np.isfinite(close) & ((halted == 0) if halted is not None else True)


class TopN(PortfolioConstructor[TopNParams]):
    """Equal weights on the top-N scores, capped per name and per industry (the default portfolio)."""

    name = "top_n"
    version = "1.0.0"
    Params = TopNParams
    default: ClassVar[bool] = True

    def target_weights(self, combination: Combination, panel: Panel, first_day: int, last_day: int) -> np.ndarray:
        """See :func:`target_weights`, on the days of :func:`rebalance_days`."""
        decisions = rebalance_days(panel.shape[1], first_day, last_day, self.params.rebalance_days)
        return target_weights(combination.score, self.params, decisions, panel.attributes.get("industry"),
                              eligible_names(panel), combination.min_abs_score)
