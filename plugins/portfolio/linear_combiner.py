"""``linear``: factor scores combined linearly into one score, and the trading signals.

The deep factor engine's linear mode (SPEC §2): per date, each factor step's score is
standardised across symbols (``standardize``: winsorised z-score or rank), then

    score[i, t] = Σ_k w_k · z_k[i, t]  +  Σ_(a,b) w_ab · z_a[i, t] · z_b[i, t]

with ``w_k`` the step's YAML ``weight`` and ``(a*b, w_ab)`` the ``interactions``.

- A factor score that is the same for every symbol on a date (a market-level factor such as a
  VIX regime broadcast to all names) has no cross-section to standardise: it enters as its own
  value clipped to ±``winsor_sigma``, so it moves every name's score (direction, exposure)
  without changing the ranking.
- A factor without a value for a symbol on a date contributes nothing (it is neutral, the
  cross-sectional mean); the score is NaN only when no factor has a value.

Inputs: the factor steps' scores ``(n, t)`` and weights. Lag: none added (the score on date ``t``
reads factor values of date ``t`` only). Warm-up: none beyond the factors'. The default combiner:
a pipeline's ``combine:`` section without ``plugin:`` is this one, with its params beside it::

    combine:
      standardize: zscore
      winsor_sigma: 3.0
      interactions: [{term: "f_c*f_s", weight: 0.3}]
      min_abs_score: 0.0
"""

from __future__ import annotations

from typing import ClassVar, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import Field
from scipy.special import erf

from jgod_core.data.panel import Combination
from jgod_core.plugin.components import Combiner, Params
from jgod_plugins.sdk.numerics import cross_sectional_rank, cross_sectional_zscore


class Interaction(Params):
    """An interaction term: the product of two factor steps' standardised scores, with its weight."""

    term: str = Field(pattern=r"^[a-z][a-z0-9_]*\*[a-z][a-z0-9_]*$", description="`step_a*step_b`.")
    weight: float = Field(ge=-10.0, le=10.0, description="Linear weight of the interaction term.")

    @property
    def factors(self) -> tuple[str, str]:
        """The two step names of the ``a*b`` term."""
        left, right = self.term.split("*")
        return left, right


class LinearParams(Params):
    """Params of :class:`LinearCombiner` (the keys of a pipeline's ``combine:`` section)."""

    standardize: Literal["zscore", "rank"] = Field("zscore", description="Per-date cross-sectional standardisation.")
    winsor_sigma: float = Field(3.0, gt=0, le=10, description="Winsorise z-scores at ± this many sigmas.")
    interactions: list[Interaction] = Field(default_factory=list, description="Interaction terms `a*b`.")
    min_abs_score: float = Field(0.0, ge=0, le=10, description="Scores closer to 0 than this give no signal.")


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
    config: LinearParams,
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
    return Combination(np.where(seen, total, np.nan), contributions, z, config.min_abs_score)


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
    config: LinearParams,
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


class LinearCombiner(Combiner[LinearParams]):
    """Weighted sum of standardised factor scores plus interaction terms (the default combiner)."""

    name = "linear"
    version = "1.0.0"
    Params = LinearParams
    default: ClassVar[bool] = True

    def combine(self, scores: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> Combination:
        """See :func:`combine`."""
        return combine(scores, weights, self.params)

    def signals(self, combination: Combination, symbols: Sequence[str], dates: np.ndarray,
                date_slice: slice = slice(None)) -> pd.DataFrame:
        """See :func:`signals_frame`."""
        return signals_frame(combination, symbols, dates, self.params, date_slice)

    @classmethod
    def factor_references(cls, params: LinearParams) -> list[tuple[tuple, str, str]]:
        """Both sides of every interaction term name a factor step."""
        return [(("interactions", i, "term"), side, "interaction term")
                for i, inter in enumerate(params.interactions) for side in inter.factors]
