"""Linear combination of factor scores into one score, trading signals and target weights.

The deep factor engine's linear mode (SPEC §2): per date, each factor step's score is
standardised across symbols (``combine.standardize``: winsorised z-score or rank), then

    score[i, t] = Σ_k w_k · z_k[i, t]  +  Σ_(a,b) w_ab · z_a[i, t] · z_b[i, t]

with ``w_k`` the step's YAML ``weight`` and ``(a*b, w_ab)`` the ``combine.interactions``.

- A factor score that is the same for every symbol on a date (a market-level factor such as a
  VIX regime broadcast to all names) has no cross-section to standardise: it enters as its own
  value clipped to ±``winsor_sigma``, so it moves every name's score (direction, exposure)
  without changing the ranking.
- A factor without a value for a symbol on a date contributes nothing (it is neutral, the
  cross-sectional mean); the score is NaN only when no factor has a value.

Everything on date ``t`` reads factor values of date ``t`` only; no look-ahead is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from numba import njit
from scipy.special import erf

from jgod_core.config.models import CombineConfig, PortfolioConfig
from jgod_plugins.sdk.numerics import cross_sectional_rank, cross_sectional_zscore


@dataclass(frozen=True)
class TradingSignal:
    """One symbol's decision at one close: the combined score, its direction and why."""

    date: pd.Timestamp
    symbol: str
    score: float
    direction: int  # +1 long, -1 short, 0 flat
    confidence: float  # in [0, 1]
    reason: str


@dataclass(frozen=True)
class Combination:
    """Combined score ``(n, t)`` and each term's contribution ``(n, t)`` (``w · z`` or ``w · z_a · z_b``)."""

    score: np.ndarray
    contributions: Mapping[str, np.ndarray]
    standardized: Mapping[str, np.ndarray]


def standardize(score: np.ndarray, method: str, winsor_sigma: float) -> np.ndarray:
    """Per-date cross-sectional standardisation of one factor score ``(n, t)``.

    Dates on which every valid symbol has the same value (a market-level factor) keep that
    value, clipped to ±``winsor_sigma``.
    """
    score = np.asarray(score, dtype=np.float64)
    if method == "rank":
        z = cross_sectional_rank(score, min_count=2)
    elif method == "zscore":
        z = cross_sectional_zscore(score, winsor_sigma)
    else:
        raise ValueError(f"unknown standardisation {method!r}")
    valid = np.isfinite(score)
    with np.errstate(all="ignore"):
        hi = np.where(valid, score, -np.inf).max(axis=0)
        lo = np.where(valid, score, np.inf).min(axis=0)
    flat = valid.any(axis=0) & (hi == lo)
    if flat.any():
        market = np.clip(score, -winsor_sigma, winsor_sigma)
        z = np.where(flat[None, :], market, z)
    return z


def combine(
    scores: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    config: CombineConfig,
) -> Combination:
    """Weighted sum of standardised factor scores plus the configured interaction terms."""
    if not scores:
        raise ValueError("no factor scores to combine")
    z = {name: standardize(s, config.standardize, config.winsor_sigma) for name, s in scores.items()}
    shape = next(iter(z.values())).shape
    total = np.zeros(shape)
    seen = np.zeros(shape, dtype=bool)
    contributions: dict[str, np.ndarray] = {}
    for name, values in z.items():
        term = weights.get(name, 1.0) * values
        contributions[name] = term
        ok = np.isfinite(term)
        total += np.where(ok, term, 0.0)
        seen |= ok
    for inter in config.interactions:
        left, right = inter.factors
        if left not in z or right not in z:
            continue  # a missing factor was reported by the runner; its interaction has no value
        term = inter.weight * z[left] * z[right]
        contributions[inter.term] = term
        total += np.where(np.isfinite(term), term, 0.0)
    return Combination(np.where(seen, total, np.nan), contributions, z)


def directions(score: np.ndarray, min_abs_score: float) -> np.ndarray:
    """+1 / −1 / 0 per symbol and date; 0 where ``|score| <= min_abs_score`` or no score."""
    out = np.zeros(score.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        out[score > min_abs_score] = 1
        out[score < -min_abs_score] = -1
    return out


def confidences(score: np.ndarray) -> np.ndarray:
    """``erf(|s| / (σ_t √2))`` in [0, 1): share of a normal cross-section closer to 0 than this score.

    ``σ_t`` is the cross-sectional std of the score on date ``t``; with no dispersion the raw
    ``|s|`` is used as the z.
    """
    with np.errstate(all="ignore"):
        sigma = np.nanstd(score, axis=0, ddof=1) if score.shape[0] > 1 else np.full(score.shape[1], np.nan)
        sigma = np.where(np.isfinite(sigma) & (sigma > 0), sigma, 1.0)
        return erf(np.abs(score) / (sigma[None, :] * np.sqrt(2.0)))


def reasons(combination: Combination, top: int = 2) -> np.ndarray:
    """For each symbol and date, the strongest terms by |contribution|, e.g. ``"f_c +0.84, f_s -0.31"``."""
    names = list(combination.contributions)
    stack = np.stack([combination.contributions[k] for k in names])  # (k, n, t)
    magnitude = np.where(np.isfinite(stack), np.abs(stack), -1.0)
    order = np.argsort(-magnitude, axis=0)[:top]
    n, t = combination.score.shape
    out = np.empty((n, t), dtype=object)
    label = np.asarray(names, dtype=object)
    parts = []
    for r in range(min(top, len(names))):
        idx = order[r]
        value = np.take_along_axis(stack, idx[None], axis=0)[0]
        text = pd.Series((label[idx] + " ").ravel()) + pd.Series(value.ravel()).map("{:+.2f}".format)
        text[~np.isfinite(value.ravel())] = ""
        parts.append(text.to_numpy(dtype=object))
    joined = parts[0]
    for extra in parts[1:]:
        joined = np.where(extra != "", joined + ", " + extra, joined)
    out[:] = joined.reshape(n, t)
    return out


def signals_frame(
    combination: Combination,
    symbols: Sequence[str],
    dates: np.ndarray,
    config: CombineConfig,
    date_slice: slice = slice(None),
) -> pd.DataFrame:
    """Long ``date, symbol, score, direction, confidence, reason`` for dates in ``date_slice``, scored rows only."""
    score = combination.score[:, date_slice]
    direction = directions(score, config.min_abs_score)
    confidence = confidences(score)
    why = reasons(Combination(score, {k: v[:, date_slice] for k, v in combination.contributions.items()}, {}))
    mask = np.isfinite(score)
    si, di = np.nonzero(mask)
    d = pd.DatetimeIndex(np.asarray(dates)[date_slice].astype("datetime64[ns]"))
    frame = pd.DataFrame({
        "date": d[di],
        "symbol": np.asarray(symbols, dtype=object)[si],
        "score": score[mask],
        "direction": direction[mask],
        "confidence": confidence[mask],
        "reason": why[mask],
    })
    return frame.sort_values(["date", "symbol"], kind="mergesort").reset_index(drop=True)


def to_trading_signals(frame: pd.DataFrame) -> list[TradingSignal]:
    """Rows of a signals frame as :class:`TradingSignal` objects."""
    return [TradingSignal(r.date, r.symbol, float(r.score), int(r.direction), float(r.confidence), r.reason)
            for r in frame.itertuples(index=False)]


# -- target weights ----------------------------------------------------------------------------


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
    portfolio: PortfolioConfig,
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
