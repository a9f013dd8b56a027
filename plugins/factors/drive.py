"""F_D drive / theme / value: which story money chases, and what the business earns."""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from jgod_core import DataKind, Factor
from jgod_core.data.panel import FactorResult, Panel
from jgod_plugins.sdk.factors import (
    FactorParams,
    ResultBuilder,
    factor_inputs,
    min_periods,
    per_symbol,
    why_absent,
)
from jgod_plugins.sdk.numerics import SUM_START, clip_sigma, cross_sectional_moments, sum_pop, sum_push, sum_value

# TWSE industry groups (security-master ``industry``, as TWSE prints them) behind each theme.
# TWSE has no IC-design, defence or high-dividend group, so those themes need explicit symbol
# lists (``theme_symbols``); the groups below are the closest exchange classification.
DEFAULT_THEME_GROUPS: dict[str, tuple[str, ...]] = {
    "ai_hardware": ("電腦及週邊設備業", "通信網路業", "電子零組件業", "數位雲端", "資訊服務業"),
    "semiconductor": ("半導體業",),
    "optoelectronics": ("光電業", "其他電子業", "電子通路業"),
    "automotive": ("汽車工業", "橡膠工業", "電機機械"),
    "biotech": ("生技醫療業", "化學生技醫療"),
    "green_energy": ("綠能環保", "油電燃氣業", "電器電纜"),
    "financials": ("金融保險業", "金融業"),
    "shipping": ("航運業",),
    "materials": ("鋼鐵工業", "塑膠工業", "化學工業", "水泥工業", "玻璃陶瓷", "造紙工業", "紡織纖維"),
    "consumer": ("食品工業", "貿易百貨業", "觀光餐旅", "運動休閒", "居家生活"),
    "construction": ("建材營造業",),
}

FUNDAMENTAL_FIELDS = ("net_income", "revenue", "total_assets", "equity")


class DriveParams(FactorParams):
    heat_return_days: int = Field(5, ge=1, le=60, description="Days of the return that measures a theme's heat.")
    heat_volume_window: int = Field(
        60, ge=5, le=252, description="Baseline days against which recent volume is compared."
    )
    theme_groups: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_THEME_GROUPS),
        description="Theme name → TWSE industry groups in it; a stock takes the first theme listing its group.",
    )
    theme_symbols: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Theme name → explicit stock codes (e.g. IC design, defence, high dividend); "
        "takes precedence over theme_groups.",
    )

    @field_validator("theme_groups", "theme_symbols")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name in value:
            if not name.isidentifier() or not name.islower():
                raise ValueError(f"theme name {name!r} must be a lower-case identifier (it becomes a component name)")
        return value


class DriveFactor(Factor[DriveParams]):
    """F_D drive/theme/value: theme heat from group returns and volume, and DuPont ROE.

    Components:

    - per stock, ``heat = mean(z(r_k), z(log(mean V_k / mean V_base)))`` where ``r_k`` is the
      ``heat_return_days`` adjusted return, ``mean V_k`` the mean volume of those days,
      ``mean V_base`` over ``heat_volume_window`` days, ``z`` the cross-sectional winsorised
      z-score per date; needs both parts;
    - ``theme_heat_<theme>`` (t,): equal-weight mean heat of the theme's members valid that day;
    - ``theme_heat`` (n,t): the heat of the stock's theme (NaN for a stock in no theme);
    - ``dupont_roe`` (n,t) = net margin × asset turnover × equity multiplier
      (``net_income/revenue × revenue/total_assets × total_assets/equity``), with
      ``net_margin``, ``asset_turnover``, ``equity_multiplier``, from point-in-time
      fundamentals fields; missing without them.

    Score: mean of ``z(theme_heat)`` and ``z(dupont_roe)`` where available. Warm-up:
    ``max(heat_return_days, heat_volume_window - 1)`` dates.
    """

    name = "f_d"
    version = "1.0.0"
    Params = DriveParams
    requires = frozenset({DataKind.DAILY_BARS, DataKind.SECURITY_MASTER, DataKind.FUNDAMENTALS})

    @classmethod
    def warmup_days(cls, params: DriveParams) -> int:
        return max(params.heat_return_days, params.heat_volume_window - 1)

    def compute(self, panel: Panel) -> FactorResult:
        p = self.params
        out = ResultBuilder(self.name, panel, p)
        warmup = self.warmup_days(p)
        codes, themes = self.theme_codes(panel)
        if not themes:
            out.miss("theme_heat", "no stock of the universe belongs to any configured theme")
        else:
            by_theme = theme_heat(panel, codes, len(themes), p)
            for k, theme in enumerate(themes):
                out.add(f"theme_heat_{theme}", by_theme[k], warmup)
            stock_theme_heat = per_symbol(by_theme, codes)
            out.score_input(out.add("theme_heat", stock_theme_heat, warmup))
        for theme in {**p.theme_groups, **p.theme_symbols}:
            if theme not in themes:
                out.miss(f"theme_heat_{theme}", "no stock of the universe belongs to this theme")

        absent = [f for f in FUNDAMENTAL_FIELDS if f not in panel.fields]
        if absent:
            reason = f"needs fundamentals fields {', '.join(absent)}: {why_absent(panel, absent[0], 'fundamentals')}"
            for name in ("dupont_roe", "net_margin", "asset_turnover", "equity_multiplier"):
                out.miss(name, reason)
        else:
            income, revenue, assets, equity = (panel.fields[f] for f in FUNDAMENTAL_FIELDS)
            with np.errstate(invalid="ignore", divide="ignore"):
                margin = np.where(revenue != 0, income / revenue, np.nan)
                turnover = np.where(assets != 0, revenue / assets, np.nan)
                multiplier = np.where(equity > 0, assets / equity, np.nan)  # negative equity: ROE undefined
            out.add("net_margin", margin, 0)
            out.add("asset_turnover", turnover, 0)
            out.add("equity_multiplier", multiplier, 0)
            out.score_input(out.add("dupont_roe", margin * turnover * multiplier, 0))
        return out.build(warmup)

    def theme_codes(self, panel: Panel) -> tuple[np.ndarray, list[str]]:
        """Each stock's theme index (-1 = none) and the themes that have at least one member."""
        p = self.params
        industry = panel.attributes.get("industry")
        group_theme = {g: theme for theme, groups in p.theme_groups.items() for g in groups}
        symbol_theme = {s: theme for theme, symbols in p.theme_symbols.items() for s in symbols}
        assigned = []
        for i, symbol in enumerate(panel.symbols):
            group = industry[i] if industry is not None else None
            assigned.append(symbol_theme.get(symbol) or group_theme.get(group))
        ordered = [t for t in {**p.theme_groups, **p.theme_symbols} if t in set(assigned)]
        index = {t: k for k, t in enumerate(ordered)}
        return np.array([index.get(t, -1) for t in assigned], dtype=np.int64), ordered


def theme_heat(panel: Panel, codes: np.ndarray, n_themes: int, p: DriveParams) -> np.ndarray:
    """``(themes, t)`` equal-weight mean stock heat of each theme's members valid that day.

    A stock's heat is the mean of the cross-sectional z-scores of its ``heat_return_days``
    return and its volume surge ``log(mean V_k / mean V_base)``; NaN unless both are known.
    """
    inputs = factor_inputs(panel)
    k, base = p.heat_return_days, p.heat_volume_window
    recent_return, surge = np.empty(panel.shape), np.empty(panel.shape)
    _heat_parts_kernel(inputs.close, inputs.volume, k, min_periods(k, p.min_valid_fraction),
                       base, min_periods(base, p.min_valid_fraction), recent_return, surge)
    np.log(surge, out=surge)  # numpy's vectorised log, in place: several times numba's scalar one
    return_mean, return_scale = cross_sectional_moments(recent_return)
    surge_mean, surge_scale = cross_sectional_moments(surge)
    return _theme_mean_kernel(recent_return, surge, return_mean, return_scale, surge_mean, surge_scale,
                              float(p.winsor_sigma), codes, n_themes)


@njit(cache=True, nogil=True)
def _heat_parts_kernel(close, volume, k, k_count, base, base_count, recent_return, surge_ratio):
    """Per stock: the ``k``-day return and ``mean V_k / mean V_base`` (NaN unless both means > 0)."""
    n, t = close.shape
    for i in range(n):
        recent = SUM_START
        baseline = SUM_START
        for j in range(t):
            v = volume[i, j]
            recent = sum_push(recent, v)
            baseline = sum_push(baseline, v)
            if j >= k:
                recent = sum_pop(recent, volume[i, j - k])
            if j >= base:
                baseline = sum_pop(baseline, volume[i, j - base])
            recent_return[i, j] = close[i, j] / close[i, j - k] - 1.0 if j >= k else np.nan
            short = sum_value(recent, k_count, True)
            long = sum_value(baseline, base_count, True)
            surge_ratio[i, j] = short / long if short > 0.0 and long > 0.0 else np.nan


@njit(cache=True, nogil=True)
def _theme_mean_kernel(recent_return, surge, return_mean, return_scale, surge_mean, surge_scale, sigma, codes,
                       n_themes):
    n, t = recent_return.shape
    total = np.zeros((n_themes, t))
    count = np.zeros((n_themes, t))
    for i in range(n):
        g = codes[i]
        if g < 0:
            continue
        for j in range(t):
            return_z = clip_sigma((recent_return[i, j] - return_mean[j]) * return_scale[j], sigma)
            surge_z = clip_sigma((surge[i, j] - surge_mean[j]) * surge_scale[j], sigma)
            heat = (return_z + surge_z) / 2.0
            if heat == heat:
                total[g, j] += heat
                count[g, j] += 1.0
    out = np.empty((n_themes, t))
    for g in range(n_themes):
        for j in range(t):
            out[g, j] = total[g, j] / count[g, j] if count[g, j] > 0 else np.nan
    return out
