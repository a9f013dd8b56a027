"""`jgod validate`: golden files of malformed pipelines, every problem located, no traceback.

Each ``tests/fixtures/yaml/invalid/X.yaml`` has ``X.expected`` beside it: the exact output of
``jgod validate X.yaml`` (one ``path:line:col: severity: loc: message`` line per problem, the
offending source line with a caret, and the hint). Run with ``JGOD_REGEN_GOLDEN=1`` to rewrite
them after an intended change of wording, then review the diff.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from jgod_core.cli import main

YAML_FIXTURES = Path(__file__).parents[2] / "fixtures" / "yaml"
INVALID_DIR = YAML_FIXTURES / "invalid"
VALID_DIR = YAML_FIXTURES / "valid"
INVALID_FILES = sorted(INVALID_DIR.glob("*.yaml"))
VALID_FILES = sorted(VALID_DIR.glob("*.yaml"))
SECONDS_PER_FILE = 2.0


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_has_at_least_40_malformed_files():
    assert len(INVALID_FILES) >= 40
    missing = [p.name for p in INVALID_FILES if not p.with_suffix(".expected").exists()]
    assert not missing, f"golden files without .expected: {missing}"


@pytest.mark.parametrize("path", INVALID_FILES, ids=lambda p: p.stem)
def test_invalid_pipeline_reports_exact_located_errors(path: Path, fixture_plugins_env, capsys, monkeypatch):
    monkeypatch.chdir(INVALID_DIR)
    started = time.perf_counter()
    code, out, err = run_cli(capsys, "validate", path.name)
    elapsed = time.perf_counter() - started

    expected_path = path.with_suffix(".expected")
    if os.environ.get("JGOD_REGEN_GOLDEN"):
        expected_path.write_text(out, encoding="utf-8")
    assert out == expected_path.read_text(encoding="utf-8")
    assert code == 1
    assert "Traceback" not in out + err
    assert f"{path.name}:" in out.splitlines()[0]
    assert elapsed < SECONDS_PER_FILE, f"{path.name} took {elapsed:.2f}s"


@pytest.mark.parametrize("path", VALID_FILES, ids=lambda p: p.stem)
def test_valid_pipeline_exits_zero_with_no_output(path: Path, fixture_plugins_env, capsys):
    code, out, err = run_cli(capsys, "validate", str(path))
    assert (code, out) == (0, "")
    assert "1 file(s) valid" in err


def test_file_with_five_independent_mistakes_reports_five_errors(fixture_plugins_env, capsys, monkeypatch):
    monkeypatch.chdir(INVALID_DIR)
    code, out, _ = run_cli(capsys, "validate", "--format", "json", "five_independent_mistakes.yaml")
    diags = json.loads(out)
    assert code == 1
    assert [(d["line"], d["column"], d["code"]) for d in diags] == [
        (4, 11, "unknown-plugin"),
        (6, 10, "greater_than_equal"),
        (12, 11, "extra_forbidden"),
        (13, 17, "phase-data"),
        (18, 16, "secret_literal"),
    ]


def test_json_format_gives_one_object_per_problem_with_stable_keys(fixture_plugins_env, capsys, monkeypatch):
    monkeypatch.chdir(INVALID_DIR)
    code, out, err = run_cli(capsys, "validate", "-f", "json", "misspelled_plugin_param.yaml", "empty_file.yaml")
    diags = json.loads(out)
    assert code == 1 and err == ""
    assert diags == [
        {
            "path": "misspelled_plugin_param.yaml",
            "line": 8,
            "column": 11,
            "severity": "error",
            "code": "extra_forbidden",
            "loc": "phases.pre_market.steps[0].params.windw",
            "message": "unknown key 'windw'",
            "hint": "did you mean 'window_days'?",
        },
        {
            "path": "empty_file.yaml",
            "line": 1,
            "column": 1,
            "severity": "error",
            "code": "empty",
            "loc": "",
            "message": "the pipeline file is empty",
            "hint": "",
        },
    ]


def test_json_format_of_valid_file_is_empty_list(fixture_plugins_env, capsys):
    code, out, _ = run_cli(capsys, "validate", "--format", "json", str(VALID_DIR / "minimal.yaml"))
    assert (code, json.loads(out)) == (0, [])


def test_history_shorter_than_warmup_warns_but_passes(fixture_plugins_env, capsys, tmp_path):
    path = tmp_path / "short_history.yaml"
    path.write_text(
        "version: 1\nname: short\ndata:\n  source: fx_source\n  lookback_days: 100\n"
        "phases:\n  pre_market:\n    steps:\n      - plugin: fx_long_memory\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(capsys, "validate", str(path))
    assert code == 0
    assert out.splitlines()[0] == (
        f"{path}:9:17: warning: phases.pre_market.steps[0].plugin: 'fx_long_memory' needs 252 trading days "
        "of history but data.lookback_days is 100; its first 152 days will have no value"
    )
    assert "hint: set data.lookback_days: 252" in out


def test_several_files_are_all_checked_and_any_error_fails(fixture_plugins_env, capsys, monkeypatch):
    monkeypatch.chdir(INVALID_DIR)
    code, out, err = run_cli(
        capsys, "validate", str(VALID_DIR / "full.yaml"), "unknown_top_level_key.yaml", "wrong_version.yaml"
    )
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines() if ": error:" in line] == [
        "unknown_top_level_key.yaml",
        "wrong_version.yaml",
    ]
    assert "2 error(s) in 3 file(s)" in err


def test_missing_file_is_a_located_error_not_a_traceback(fixture_plugins_env, capsys, tmp_path):
    code, out, err = run_cli(capsys, "validate", str(tmp_path / "nope.yaml"))
    assert code == 1
    assert out.startswith(f"{tmp_path / 'nope.yaml'}:1:1: error: cannot read file: No such file or directory")
    assert "Traceback" not in out + err


def test_unknown_output_format_is_a_usage_error(fixture_plugins_env, capsys):
    code, _, err = run_cli(capsys, "validate", "--format", "xml", str(VALID_DIR / "minimal.yaml"))
    assert code == 2
    assert "--format must be 'human' or 'json'" in err


def test_block_list_in_the_file_applies_to_that_file_only(fixture_plugins_env, capsys, tmp_path):
    blocked = tmp_path / "blocked.yaml"
    blocked.write_text(
        (VALID_DIR / "minimal.yaml").read_text(encoding="utf-8") + "plugins:\n  block: [fixture_plugins]\n",
        encoding="utf-8",
    )
    code, out, _ = run_cli(capsys, "validate", str(VALID_DIR / "minimal.yaml"), str(blocked))
    assert code == 1
    assert f"{blocked}:4:11: error: data.source: unknown data_source 'fx_source'" in out
    assert str(VALID_DIR / "minimal.yaml") not in out


# -- secrets ------------------------------------------------------------------------------------

SECRET_PIPELINE = """\
version: 1
name: secrets
data: {{source: fx_source}}
execution:
  broker:
    plugin: fx_broker
    params:
      api_key: {api_key}
"""


def test_environment_reference_under_secret_field_is_accepted_without_resolving_it(
        fixture_plugins_env, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("SHIOAJI_API_KEY", raising=False)  # resolved at run time, not by validate
    path = tmp_path / "p.yaml"
    path.write_text(SECRET_PIPELINE.format(api_key="${SHIOAJI_API_KEY}"), encoding="utf-8")
    code, out, _ = run_cli(capsys, "validate", str(path))
    assert (code, out) == (0, "")


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_literal_under_secret_field_is_located_and_never_echoed(fixture_plugins_env, capsys, tmp_path, fmt):
    literal = "sk-live-9f8e7d6c5b4a"
    path = tmp_path / "p.yaml"
    path.write_text(SECRET_PIPELINE.format(api_key=literal), encoding="utf-8")
    code, out, err = run_cli(capsys, "validate", "--format", fmt, str(path))
    assert code == 1
    assert literal not in out + err
    if fmt == "json":
        [diag] = json.loads(out)
        assert (diag["line"], diag["column"], diag["code"]) == (8, 16, "secret_literal")
    else:
        assert out.splitlines()[0].startswith(f"{path}:8:16: error: execution.broker.params.api_key: secret fields")
        assert " 8 |       api_key: <redacted>" in out


def test_resolve_secret_reads_the_environment_only():
    from jgod_core import resolve_secret

    assert resolve_secret("${SHIOAJI_API_KEY}", {"SHIOAJI_API_KEY": "value-from-env"}) == "value-from-env"
    assert resolve_secret(None, {}) is None


def test_resolve_secret_errors_name_the_variable_never_a_value():
    from jgod_core import resolve_secret
    from jgod_core.errors import SecretError

    with pytest.raises(SecretError) as missing:
        resolve_secret("${SHIOAJI_API_KEY}", {"OTHER": "x"})
    assert str(missing.value) == "environment variable SHIOAJI_API_KEY is not set (referenced as ${SHIOAJI_API_KEY})"
    with pytest.raises(SecretError) as literal:
        resolve_secret("sk-live-9f8e7d6c5b4a", {})
    assert "sk-live" not in str(literal.value)


def test_combine_section_without_plugin_and_no_default_combiner_is_a_located_error():
    from jgod_core import PluginPolicy, load_kernel
    from jgod_core.config.validate import validate_text

    kernel = load_kernel(PluginPolicy(block=frozenset({"jgod"}), autoload=False))
    text = "version: 1\nname: bare\ncombine:\n  winsor_sigma: 2.0\n"
    pipeline, diags = validate_text(text, "bare.yaml", kernel)
    combine = [d for d in diags if d.loc == "combine"]
    assert pipeline is None and [(d.code, d.line, d.column) for d in combine] == [("no-default", 3, 1)]
    assert "no installed combiner is the default" in combine[0].message


def test_absent_sections_need_no_installed_combiner_or_portfolio():
    from jgod_core import PluginPolicy, load_kernel
    from jgod_core.config.validate import validate_text

    kernel = load_kernel(PluginPolicy(block=frozenset({"jgod"}), autoload=False))
    _, diags = validate_text("version: 1\nname: bare\n", "bare.yaml", kernel)
    assert not [d for d in diags if d.loc in ("combine", "portfolio")]


def test_a_misspelt_venue_is_a_located_validate_error_with_the_installed_one_suggested(capsys, tmp_path):
    path = tmp_path / "venue.yaml"
    path.write_text("version: 1\nname: venue_typo\nvenue: tww\ndata:\n  source: sample\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    err = captured.out + captured.err
    assert f"{path}:3:8: error: venue: no venue 'tww' is installed (installed: tw)" in err
    assert "did you mean 'tw'?" in err
    path.write_text("version: 1\nname: venue_ok\nvenue: tw\ndata:\n  source: sample\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0
