"""The shipped main job on the shipped sample gives the golden outputs.

The fingerprints were taken on the code before the kernel was split into subsystem packages and
the domain code moved to plugins (the house issue); a refactor must not change them. A change that
alters results on purpose updates ``GOLDEN`` in the same commit and says why in its message.

A fingerprint is not the file's bytes: pyarrow writes its version into the footer and lays out
pages differently between releases, so byte digests break on a clean CI machine that resolved
other versions. Instead every non-float column is hashed exactly (dates, symbols, sides, shares,
reasons) and every float column is pinned by its sum, its absolute sum and its NaN count, to a
relative 1e-9 that tolerates last-bit differences between numpy builds and nothing more.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jgod_core.cli import main as jgod

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "pipelines" / "tw_five_factor.yaml"

GOLDEN = {
    "factors.parquet": (
        ["date", "symbol", "factor", "component", "value"], 1890026,
        "fd2372e698fad4607ea2cc61b69b0bc51570fcdccf6ac9b39fa109b1a29b0595",
        {"value": (23358524.63912019, 25853354.8188235, 0)}),
    "signals.parquet": (
        ["date", "symbol", "score", "direction", "confidence", "reason"], 90115,
        "8dae18c2951d0b7fa7c0d488ba9ed370bc66f28234e535ab4bab12b7a94ac1a7",
        {"score": (2588.742514081572, 114435.25376473705, 0),
         "confidence": (43916.843155535884, 43916.843155535884, 0)}),
    "trades.parquet": (
        ["date", "symbol", "side", "shares", "price", "commission", "tax"], 3824,
        "7210ade635b7d4440ae20a73234879d3f81b217dc0cfe1121cb71c6a09ef0923",
        {"price": (663489.5299999999, 663489.5299999999, 0), "commission": (2490282.0, 2490282.0, 0),
         "tax": (4320041.0, 4320041.0, 0)}),
    "equity.parquet": (
        ["date", "equity", "cash", "unsettled", "gross", "net"], 1796,
        "b785e91b4f462de00cf942bff893a45584be798d5995e271fd74b069b6880200",
        {"equity": (17476175683.0, 17476175683.0, 0), "cash": (3783359639.0, 3783359639.0, 0),
         "unsettled": (-12804646.0, 556592938.0, 0), "gross": (1412.4409226657754, 1412.4409226657754, 0),
         "net": (1412.4409226657754, 1412.4409226657754, 0)}),
}


def fingerprint(path: Path):
    frame = pd.read_parquet(path)
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    exact = frame.drop(columns=floats)
    digest = hashlib.sha256(pd.util.hash_pandas_object(exact, index=False).to_numpy().tobytes()).hexdigest()
    sums = {c: (float(np.nansum(frame[c])), float(np.nansum(np.abs(frame[c]))), int(frame[c].isna().sum()))
            for c in floats}
    return list(frame.columns), len(frame), digest, sums


def test_shipped_pipeline_on_the_sample_writes_the_golden_outputs(tmp_path):
    out = tmp_path / "run"
    assert jgod(["run", str(SHIPPED), "--out", str(out)]) == 0
    for name, (columns, rows, digest, sums) in GOLDEN.items():
        got_columns, got_rows, got_digest, got_sums = fingerprint(out / name)
        assert (got_columns, got_rows, got_digest) == (columns, rows, digest), name
        assert got_sums.keys() == sums.keys(), name
        for column, expected in sums.items():
            assert got_sums[column] == pytest.approx(expected, rel=1e-9, abs=1e-9), f"{name}:{column}"
