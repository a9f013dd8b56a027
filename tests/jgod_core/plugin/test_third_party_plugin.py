"""The third-party path end to end, with the example package ``examples/jgod-example-momentum``.

The package is installed with pip (``--no-deps --target``, default build isolation) into a
temporary directory that is put on ``sys.path``: discovery then goes through the real entry-point
machinery (``importlib.metadata``), exactly as for a package installed in site-packages, without
touching the environment the other tests run in. ``.ci/run`` also installs it for real.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jgod_core import Panel, PluginPolicy, load_kernel
from jgod_core.cli import main
from jgod_core.config.validate import load_pipeline
from jgod_core.plugin.components import ComponentKind

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "jgod-example-momentum"
DISTRIBUTION, VERSION, COMPONENT = "jgod-example-momentum", "0.1.0", "price_momentum"

PIPELINE = """\
version: 1
name: third_party
data:
  source: sample
  lookback_days: 260
phases:
  pre_market:
    steps:
      - plugin: price_momentum
        name: momentum_60_5
        weight: 1.0
        params:
          window_days: {window}
          skip_days: 5
"""


@pytest.fixture(scope="session")
def example_site(tmp_path_factory) -> Path:
    """The example package pip-installed into a fresh directory (built from a copy, so the
    checkout gets no build/ or egg-info droppings)."""
    work = tmp_path_factory.mktemp("example")
    source = work / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    site = work / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / f"jgod_example_momentum-{VERSION}.dist-info" / "entry_points.txt").exists()
    return site


@pytest.fixture
def example_installed(example_site, monkeypatch):
    """The installed example visible to this process (first on sys.path, module not cached)."""
    monkeypatch.syspath_prepend(str(example_site))
    for name in [m for m in sys.modules if m.startswith("jgod_example_momentum")]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("JGOD_PLUGINS", "JGOD_PLUGINS_ALLOW", "JGOD_PLUGINS_BLOCK", "JGOD_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(name, raising=False)
    return example_site


def test_installed_package_is_discovered_through_its_entry_point(example_installed):
    kernel = load_kernel(PluginPolicy.from_env())
    entry = kernel.registry.get(ComponentKind.FACTOR, COMPONENT)
    assert entry is not None
    assert (entry.plugin, entry.distribution, entry.distribution_version) == ("example_momentum", DISTRIBUTION,
                                                                              VERSION)
    assert Path(sys.modules["jgod_example_momentum"].__file__).is_relative_to(example_installed)


def test_jgod_plugins_in_a_fresh_interpreter_lists_it_with_distribution_and_version(example_site):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(example_site), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "jgod_core.cli", "plugins", "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    [row] = [c for c in listing["components"] if c["name"] == COMPONENT]
    assert row == {
        "kind": "factor", "name": COMPONENT, "version": "0.1.0", "plugin": "example_momentum",
        "distribution": DISTRIBUTION, "distribution_version": VERSION, "hooks": ["jgod_register_components"],
        "summary": row["summary"],
    }
    assert row["summary"].startswith("Price momentum")
    [plugin] = [p for p in listing["plugins"] if p["plugin"] == "example_momentum"]
    assert plugin["distribution"] == DISTRIBUTION


def test_jgod_plugins_show_documents_its_params(example_installed, capsys):
    assert main(["plugins", "show", COMPONENT, "--format", "json"]) == 0
    [detail] = json.loads(capsys.readouterr().out)
    assert detail["requires"] == ["daily_bars"] and detail["warmup_days"] == 20
    assert detail["params"][0] == {
        "name": "window_days", "type": "int", "required": False, "default": 20, "bounds": {"ge": 1, "le": 504},
        "description": "Trading days between the two closes compared.",
    }


def test_pipeline_naming_it_validates(example_installed, tmp_path, capsys):
    path = tmp_path / "third_party.yaml"
    path.write_text(PIPELINE.format(window=60), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_bad_param_of_the_third_party_factor_is_reported_located(example_installed, tmp_path, capsys):
    path = tmp_path / "third_party.yaml"
    path.write_text(PIPELINE.format(window=0), encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (f"{path}:13:24: error: phases.pre_market.steps[0].params.window_days: "
                     "Input should be greater than or equal to 1")


@pytest.fixture(scope="module")
def sample_bars() -> pd.DataFrame:
    root = importlib.resources.files("jgod_plugins.data") / "sample_data" / "daily"
    path = root / "twse_51_stocks_daily_ohlcv_2015-01-05_2025-05-26.csv.gz"
    return pd.read_csv(path, dtype={"symbol": str}, parse_dates=["date"])


def test_factor_from_the_pipeline_runs_on_the_real_sample_and_matches_pandas(example_installed, tmp_path,
                                                                            sample_bars):
    path = tmp_path / "third_party.yaml"
    path.write_text(PIPELINE.format(window=60), encoding="utf-8")
    pipeline = load_pipeline(path)
    [step] = pipeline.factor_steps
    assert (step.name, step.entry.distribution) == ("momentum_60_5", DISTRIBUTION)

    panel = Panel.from_long(sample_bars, ["open", "high", "low", "close", "volume"])
    result = step.build().compute(panel)

    wide = sample_bars.pivot(index="date", columns="symbol", values="close").sort_index()
    expected = (wide.shift(5) / wide.shift(65) - 1.0).T.reindex(list(panel.symbols)).to_numpy()
    assert result.score.shape == (51, len(wide)) == expected.shape
    np.testing.assert_allclose(result.score, expected, rtol=1e-12, equal_nan=True)
    assert np.isfinite(result.score).sum() > 100_000  # the comparison covers real values
    assert np.isnan(result.score[:, :65]).all()  # warm-up
