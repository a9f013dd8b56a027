"""Base of intraday factors: a score per symbol from the processor's latest components.

An intraday factor reads an :class:`IntradayView` (the processor's component values at one
decision time, plus why absent components are absent) and returns a
:class:`~jgod_core.data.panel.FactorResult` with ``(n, 1)`` arrays. Its score is
``Σ_c weight_c × clip(component_c / scale_c, −clip, +clip)`` over the components with a
non-zero weight; a component that is NaN contributes nothing to that symbol's score, and a
component NaN for every symbol is listed in ``missing`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Mapping

import numpy as np

from jgod_core.data.panel import FactorResult
from jgod_core.plugin.components import Factor, Phase


@dataclass(frozen=True)
class IntradayView:
    """Component values per symbol at one decision time."""

    symbols: tuple[str, ...]
    exchange_ns: int
    components: Mapping[str, np.ndarray]
    why_missing: Mapping[str, str] = field(default_factory=dict)


class IntradayFactor(Factor):
    """A factor computed in the intraday phase from the realtime processor's components."""

    phases = frozenset({Phase.INTRADAY})
    component_names: ClassVar[tuple[str, ...]] = ()

    def weights_and_scales(self) -> dict[str, tuple[float, float]]:
        """``component → (weight, scale)`` from the params (``<component>_weight`` / ``_scale``)."""
        p = self.params
        return {c: (getattr(p, f"{c}_weight"), getattr(p, f"{c}_scale")) for c in self.component_names}

    def compute(self, view: IntradayView) -> FactorResult:
        n = len(view.symbols)
        score = np.zeros(n)
        clip = self.params.clip
        components: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        for name, (weight, scale) in self.weights_and_scales().items():
            values = np.asarray(view.components[name], dtype=np.float64)
            components[name] = values.reshape(n, 1)
            if np.isnan(values).all():
                missing[name] = view.why_missing.get(name, f"{name}: no input yet (warm-up or no feed provides it)")
                continue
            if weight:
                score += weight * np.nan_to_num(np.clip(values / scale, -clip, clip), nan=0.0)
        return FactorResult(self.name, score.reshape(n, 1), components, missing)
