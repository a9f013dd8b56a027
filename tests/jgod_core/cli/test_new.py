"""``jgod new plugin`` / ``jgod new pipeline``: a generated package that passes its own tests and runs.

Always on: the generated package imported through ``sys.path`` passes the kit's factor contract
and runs in a pipeline on the real sample. Slow (``-m slow``): the package is pip-installed into a
fresh venv, where its own pytest passes, ``jgod plugins`` lists it and ``jgod run`` runs it.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jgod_core import PluginPolicy, load_kernel, run_pipeline
from jgod_core.cli import main
from jgod_core.config.validate import load_pipeline
from jgod_core.testing import check_factor, make_panel, sample_store

NAME = "kit_new_momentum"  # not importable anywhere else, not a registered component


def _generate(tmp_path: Path, capsys) -> Path:
    assert main(["new", "plugin", NAME, "--dir", str(tmp_path)]) == 0
    capsys.readouterr()
    return tmp_path / NAME


@pytest.fixture
def imported(tmp_path, capsys, monkeypatch):
    """The generated package on sys.path (not installed), imported fresh; yields (root, module)."""
    root = _generate(tmp_path, capsys)
    monkeypatch.syspath_prepend(str(root / "src"))
    for name in [m for m in sys.modules if m == NAME or m.startswith(NAME + ".")]:
        monkeypatch.delitem(sys.modules, name)
    module = importlib.import_module(NAME)
    yield root, module
    for name in [m for m in sys.modules if m == NAME or m.startswith(NAME + ".")]:
        del sys.modules[name]


def test_new_plugin_writes_a_package_with_entry_point_factor_tests_and_pipeline(tmp_path, capsys):
    root = _generate(tmp_path, capsys)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", f"pipelines/{NAME}.yaml", "pyproject.toml", f"src/{NAME}/__init__.py",
                     f"src/{NAME}/factor.py", f"tests/test_{NAME}.py"]
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert f'[project.entry-points.jgod]\n{NAME} = "{NAME}"' in pyproject
    assert 'build-backend = "setuptools.build_meta"' in pyproject
    factor = (root / "src" / NAME / "factor.py").read_text(encoding="utf-8")
    assert "from jgod_plugins.sdk.factors import" in factor and "def compute(self, panel: Panel)" in factor
    assert "..." not in factor.split("def compute", 1)[1]  # a complete body, not a stub
    tests = (root / "tests" / f"test_{NAME}.py").read_text(encoding="utf-8")
    assert "check_factor(" in tests and "make_panel(" in tests and "run_pipeline(" in tests


def test_generated_factor_passes_check_factor_and_runs_in_its_pipeline(imported, tmp_path):
    root, module = imported
    cls = module.KitNewMomentum
    report = check_factor(cls, make_panel(), cross_sectional={"score"})
    assert report.warmup == 20 and report.per_symbol_checked == ("momentum",)
    kernel = load_kernel(PluginPolicy(), extra_plugins=[(NAME, module)])
    pipeline = load_pipeline(root / "pipelines" / f"{NAME}.yaml", kernel)
    result = run_pipeline(pipeline, out=tmp_path / "run", store=sample_store(), progress=False)
    assert set(result.factors["factor"]) == {NAME}
    momentum = result.factors[result.factors["component"] == "momentum"]
    assert len(momentum) > 0 and np.isfinite(momentum["value"]).all()
    assert json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))


def test_new_plugin_refuses_an_existing_directory_without_traceback(tmp_path, capsys):
    (tmp_path / NAME).mkdir()
    assert main(["new", "plugin", NAME, "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and "Traceback" not in err
    assert list((tmp_path / NAME).iterdir()) == []  # nothing written into it


@pytest.mark.parametrize("bad", ["My_Factor", "my-factor", "1factor", "class", "_private", "x" * 65])
def test_new_plugin_refuses_a_name_that_is_not_a_lower_snake_case_identifier(tmp_path, capsys, bad):
    assert main(["new", "plugin", bad, "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "lower_snake_case Python identifier" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("taken, why", [("f_c", "already installed"), ("json", "already importable")])
def test_new_plugin_refuses_a_name_already_taken(tmp_path, capsys, taken, why):
    assert main(["new", "plugin", taken, "--dir", str(tmp_path)]) == 1
    assert why in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_new_pipeline_writes_a_commented_pipeline_that_validates(tmp_path, capsys):
    assert main(["new", "pipeline", "my_pipeline", "--dir", str(tmp_path)]) == 0
    path = tmp_path / "my_pipeline.yaml"
    text = path.read_text(encoding="utf-8")
    for section in ("universe:", "data:", "phases:", "combine:", "portfolio:", "backtest:", "risk:", "execution:"):
        assert f"\n{section}" in text and text.split(f"\n{section}")[0].rstrip().splitlines()[-1].startswith("#")
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    assert "error" not in capsys.readouterr().out


def test_new_pipeline_with_a_factor_names_it_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["new", "pipeline", "mine", "--dir", str(tmp_path), "--factor", "price_momentum"]) == 0
    assert "- plugin: price_momentum" in (tmp_path / "mine.yaml").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["new", "pipeline", "mine", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and "Traceback" not in err


def test_jgod_new_is_listed_in_the_help(capsys):
    main(["--help"])
    assert "new" in capsys.readouterr().out


# -- installed for real -------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_generated_plugin_installed_in_a_fresh_venv_passes_its_tests_is_listed_and_runs(tmp_path, capsys):
    root = _generate(tmp_path, capsys)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], dict(os.environ), tmp_path)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in {"JGOD_PLUGINS", "PYTHONPATH"}}
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(root)], env, tmp_path)

    tests = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")], env, root)
    assert "4 passed" in tests.stdout

    listed = json.loads(_run([python, "-m", "jgod_core.cli", "plugins", "--format", "json"], env, root).stdout)
    [entry] = [c for c in listed["components"] if c["name"] == NAME]
    assert entry["kind"] == "factor" and entry["distribution"] == "jgod-" + NAME.replace("_", "-")

    out = tmp_path / "run"
    _run([python, "-m", "jgod_core.cli", "run", f"pipelines/{NAME}.yaml", "--out", str(out)], env, root)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary
    assert (out / "factors.parquet").is_file()
