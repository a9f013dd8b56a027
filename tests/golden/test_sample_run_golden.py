"""The shipped main job on the shipped sample gives byte-identical outputs.

The digests were taken on the code before the kernel was split into subsystem packages and the
domain code moved to plugins (the house issue); a refactor must not change them. A change that
alters results on purpose updates ``GOLDEN`` in the same commit and says why in its message.

Byte identity presumes the pinned environment of ``.ci/run`` (pyarrow writes its version into the
file footer); the digests are of the files exactly as ``jgod run`` writes them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from jgod_core.cli import main as jgod

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "pipelines" / "tw_five_factor.yaml"

GOLDEN = {
    "factors.parquet": "009ee00efdca610e95bb9878fea63a2b2ee2d6e9ff6ba8dec707a4dd325eeb9c",
    "signals.parquet": "cee1f9f2317c01f6f6fb57fc321011ce248d9a7f6f19107c57bd1bd84af3b9ab",
    "trades.parquet": "14b9b6d602ab0af417e86d9ac4afb792abb323e2b18ebbf293cf2c587fcb34eb",
    "equity.parquet": "1be4e88e027b4410d88c9b8878fcb321970115daa631c5258702fe72eb192683",
}


def test_shipped_pipeline_on_the_sample_writes_the_golden_parquet_bytes(tmp_path):
    out = tmp_path / "run"
    assert jgod(["run", str(SHIPPED), "--out", str(out)]) == 0
    digests = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in GOLDEN}
    assert digests == GOLDEN
