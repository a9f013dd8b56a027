"""Every component of every factor equals an independent pandas computation on the real sample."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jgod_plugins.factors.cross_market import CrossMarketFactor
from jgod_plugins.factors.cycle import CycleFactor
from jgod_plugins.factors.drive import DEFAULT_THEME_GROUPS, DriveFactor
from jgod_plugins.factors.microstructure import MicrostructureFactor
from jgod_plugins.factors.style import StyleFactor

_spec = importlib.util.spec_from_file_location("factor_reference", Path(__file__).with_name("reference.py"))
reference = sys.modules.setdefault("factor_reference", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(reference)


def _theme_of(panel) -> dict[str, str]:
    group_theme = {g: t for t, groups in DEFAULT_THEME_GROUPS.items() for g in groups}
    return {s: group_theme.get(ind) for s, ind in zip(panel.symbols, panel.attributes["industry"])}


CASES = {
    "f_c": (CycleFactor, lambda f, p, panel: reference.f_c(f, p)),
    "f_s": (StyleFactor, lambda f, p, panel: reference.f_s(f, p)),
    "f_d": (DriveFactor, lambda f, p, panel: reference.f_d(f, p, _theme_of(panel))),
    "f_stat": (MicrostructureFactor, lambda f, p, panel: reference.f_stat(f, p)),
    "f_exec": (CrossMarketFactor, lambda f, p, panel: reference.f_exec(f, p)),
}
PARAMS = {"default": {}, "strict_windows": {"min_valid_fraction": 1.0}}


@pytest.fixture(scope="module")
def frames(sample_panel):
    return reference.Frames.of(sample_panel)


@pytest.mark.parametrize("params", list(PARAMS), ids=list(PARAMS))
@pytest.mark.parametrize("factor", list(CASES))
def test_every_component_and_score_equal_pandas_reference(sample_panel, frames, factor, params):
    cls, ref = CASES[factor]
    p = cls.Params(**PARAMS[params])
    result = cls(p).compute(sample_panel)
    expected = ref(frames, p, sample_panel)
    computed = {"score": result.score, **result.components}
    assert set(expected) == set(computed), "the reference covers exactly the computed components"
    for name, want in expected.items():
        want = want.to_numpy().T if isinstance(want, pd.DataFrame) else want.to_numpy()
        got = computed[name]
        assert got.shape == want.shape, name
        assert np.isfinite(got).any(), f"{name} is never computed on the sample"
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=f"{factor}.{name}")
