"""`jgod schema`: JSON Schema 2020-12 of pipeline files with every installed plugin's params.

The committed ``schemas/pipeline.schema.json`` covers this repository's built-in plugins plus the
example package ``examples/jgod-example-momentum`` (which ``.ci/run`` installs). After adding or
changing a plugin, regenerate it with ``jgod schema`` (example package installed) or with
``JGOD_REGEN_SCHEMA=1 python -m pytest tests/jgod_core/config/test_schema.py``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import jsonschema
import pytest

from jgod_core import PluginPolicy, load_kernel
from jgod_core.cli import main
from jgod_core.config.schema import SCHEMA_DIALECT, build_schema, render_schema
from jgod_core.config.yaml_source import load_yaml_file
from jgod_core.plugin.components import ComponentKind

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "schemas" / "pipeline.schema.json"
YAML_FIXTURES = ROOT / "tests" / "fixtures" / "yaml"
EXAMPLE_SRC = ROOT / "examples" / "jgod-example-momentum" / "src"
EXAMPLE_DIST = "jgod-example-momentum"


def repo_kernel(monkeypatch: pytest.MonkeyPatch):
    """Built-in plugins plus the example package, whether or not the example is pip-installed."""
    policy = PluginPolicy(allow=frozenset({EXAMPLE_DIST}))
    kernel = load_kernel(policy)
    if kernel.registry.get(ComponentKind.FACTOR, "price_momentum") is None:
        monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
        kernel = load_kernel(policy, [("example_momentum", importlib.import_module("jgod_example_momentum"))])
    return kernel


@pytest.fixture(scope="module")
def fixture_schema() -> dict:
    """The schema for the built-ins plus the fixture plugins the golden files use."""
    sys.path.insert(0, str(Path(__file__).parents[1]))
    try:
        fixture_plugins = importlib.import_module("fixture_plugins")
    finally:
        sys.path.remove(str(Path(__file__).parents[1]))
    # the fixture plugins register the built-in combiner and portfolio themselves
    policy = PluginPolicy(block=frozenset({"builtin_portfolio"}))
    schema = build_schema(load_kernel(policy, [("fixture_plugins", fixture_plugins)]))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def data_of(path: Path):
    doc, errors = load_yaml_file(path)
    assert doc is not None and not errors
    return doc.data


def schema_errors(schema: dict, data) -> list[str]:
    return [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]


def test_committed_schema_is_up_to_date(monkeypatch):
    fresh = render_schema(repo_kernel(monkeypatch))
    if os.environ.get("JGOD_REGEN_SCHEMA"):
        COMMITTED.parent.mkdir(exist_ok=True)
        COMMITTED.write_text(fresh, encoding="utf-8")
    assert COMMITTED.exists(), "schemas/pipeline.schema.json is missing: run `jgod schema`"
    assert COMMITTED.read_text(encoding="utf-8") == fresh, (
        "schemas/pipeline.schema.json is stale: run `jgod schema` (with examples/jgod-example-momentum "
        "installed) or `JGOD_REGEN_SCHEMA=1 python -m pytest tests/jgod_core/config/test_schema.py`"
    )


def test_committed_schema_is_a_valid_2020_12_schema_naming_every_plugin(monkeypatch):
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    kernel = repo_kernel(monkeypatch)
    for entry in kernel.registry:
        params = schema["$defs"].get(f"{entry.kind.value}.{entry.name}.params")
        assert params is not None, f"{entry.kind.value} {entry.name} has no params schema"
        assert sorted(params.get("properties", {})) == sorted(entry.params_model.model_fields)
        assert params.get("additionalProperties") is False


def test_shipped_pipelines_match_the_committed_schema():
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    shipped = sorted((ROOT / "pipelines").glob("*.yaml"))
    assert shipped
    for path in shipped:
        assert schema_errors(schema, data_of(path)) == [], path.name


@pytest.mark.parametrize("path", sorted((YAML_FIXTURES / "valid").glob("*.yaml")), ids=lambda p: p.stem)
def test_valid_fixtures_match_the_schema(fixture_schema, path):
    assert schema_errors(fixture_schema, data_of(path)) == []


@pytest.mark.parametrize("name, fragment", [
    ("unknown_top_level_key", "'portfolo' was unexpected"),
    ("misspelled_plugin_param", "'windw' was unexpected"),
    ("unknown_risk_param", "'max_slipage' was unexpected"),
    ("unknown_data_source_param", "'rot' was unexpected"),
    ("out_of_bounds_plugin_param", "1 is less than the minimum of 2"),
    ("out_of_bounds_risk_threshold", "0.5 is greater than the maximum of 0.05"),
    ("unknown_plugin_did_you_mean", "'fx_momentun' is not one of"),
    ("unquoted_stock_code_0050", "50 is not of type 'string'"),
    ("not_a_stock_code", "'TSMC' does not match"),
    ("yaml11_sexagesimal_clock", "810 is not of type 'string'"),
    ("bad_clock_time", "'25:00' does not match"),
    ("missing_required_name", "'name' is a required property"),
    ("wrong_type_top_n_string", "'ten' is not of type 'integer'"),
])
def test_schema_rejects_what_the_validator_rejects(fixture_schema, name, fragment):
    errors = schema_errors(fixture_schema, data_of(YAML_FIXTURES / "invalid" / f"{name}.yaml"))
    assert any(fragment in e for e in errors), errors


def test_secret_field_takes_only_an_environment_reference(fixture_schema):
    def broker(api_key: str) -> dict:
        return {"version": 1, "name": "s", "execution": {"broker": {"plugin": "fx_broker",
                                                                    "params": {"api_key": api_key}}}}
    assert schema_errors(fixture_schema, broker("${SHIOAJI_API_KEY}")) == []
    assert schema_errors(fixture_schema, broker("A1b2C3d4E5f6")) != []


def test_jgod_schema_writes_the_file_and_check_detects_staleness(tmp_path, capsys):
    out = tmp_path / "nested" / "pipeline.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert main(["schema", "--out", str(out), "--check"]) == 0

    out.write_text(out.read_text(encoding="utf-8").replace('"zscore"', '"zscore_old"'), encoding="utf-8")
    assert main(["schema", "--out", str(out), "--check"]) == 1
    assert "is stale; run `jgod schema`" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.tmp"))  # written atomically


def test_schema_check_names_components_the_file_has_but_the_installation_lacks(tmp_path, capsys):
    out = tmp_path / "pipeline.schema.json"
    assert main(["schema", "--out", str(out)]) == 0
    schema = json.loads(out.read_text(encoding="utf-8"))
    schema["$defs"]["factor.not_installed_here.params"] = {"type": "object"}
    out.write_text(json.dumps(schema), encoding="utf-8")
    assert main(["schema", "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert "in the file but not installed: factor not_installed_here" in " ".join(err.split())
