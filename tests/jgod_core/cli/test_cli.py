"""`jgod plugins` / `jgod plugins show` and the CLI's exit codes."""

from __future__ import annotations

import json
import sys

import pytest

from jgod_core.cli import main


@pytest.fixture
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_plugins_lists_kind_name_version_plugin_distribution_and_hooks(fixture_plugins_env, wide_terminal, capsys):
    code, out, _ = run(capsys, "plugins")
    assert code == 0
    plugin_line = next(line for line in out.splitlines() if "fixture_plugins" in line and "jgod_register" in line)
    assert "local" in plugin_line and "jgod_register_components" in plugin_line
    component_line = next(line for line in out.splitlines() if " fx_momentum " in line)
    for cell in ("factor", "fx_momentum", "1.0.0", "fixture_plugins", "local", "Fixture daily factor"):
        assert cell in component_line
    assert "skipped plugin" in out  # the built-ins are blocked in this environment, and said so


def test_plugins_json_has_plugins_components_and_skipped(fixture_plugins_env, capsys):
    code, out, _ = run(capsys, "plugins", "--format", "json")
    listing = json.loads(out)
    assert code == 0
    assert listing["plugins"] == [{
        "plugin": "fixture_plugins", "distribution": "local", "distribution_version": "",
        "hooks": ["jgod_register_components"],
    }]
    assert [(c["kind"], c["name"]) for c in listing["components"]][:4] == [
        ("backtester", "fx_backtest"), ("broker", "fx_broker"), ("combiner", "linear"), ("data_source", "fx_source")]
    assert "jgod" in {s["distribution"] for s in listing["skipped"]}  # built-ins blocked, and said so


def test_plugins_show_gives_docs_needs_phases_warmup_and_params(fixture_plugins_env, wide_terminal, capsys):
    code, out, _ = run(capsys, "plugins", "show", "fx_momentum")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "fx_momentum  factor 1.0.0  from fixture_plugins (local)"
    assert "Fixture daily factor (window_days of daily bars)." in lines
    assert "needs: daily_bars" in lines and "warm-up (default params): 20 trading days" in lines
    row = next(line for line in lines if "window_days" in line and "ge 2" in line)
    for cell in ("int", "20", "ge 2, le 252", "Look-back window in trading days."):
        assert cell in row


def test_plugins_show_json_lists_every_param_with_default_bounds_and_description(fixture_plugins_env, capsys):
    code, out, _ = run(capsys, "plugins", "show", "fx_slippage", "-f", "json")
    [detail] = json.loads(out)
    assert code == 0
    assert detail["params"] == [
        {"name": "max_slippage", "type": "float", "required": False, "default": 0.0005,
         "bounds": {"gt": 0.0, "le": 0.05}, "description": "Largest predicted slippage (fraction)."},
        {"name": "basis_residual_floor", "type": "float", "required": False, "default": -50.0,
         "bounds": {"ge": -1000.0, "le": 0.0}, "description": "Basis residual alarm, points."},
    ]


def test_plugins_show_marks_secret_fields(fixture_plugins_env, capsys):
    _, out, _ = run(capsys, "plugins", "show", "fx_broker", "-f", "json")
    assert json.loads(out)[0]["params"][0]["type"] == "secret ${ENV_VAR} | None"


def test_plugins_show_unknown_name_suggests_the_closest(fixture_plugins_env, capsys):
    code, _, err = run(capsys, "plugins", "show", "fx_momentun")
    assert code == 1
    assert "error: no component named 'fx_momentun'; did you mean 'fx_momentum'?" in err


@pytest.mark.parametrize("args", [["no-such-command"], ["validate"], ["plugins", "--format", "yaml"]])
def test_usage_errors_exit_2_without_traceback(fixture_plugins_env, capsys, args):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert "Traceback" not in out + err


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "validate" in out and "plugins" in out and "schema" in out


def test_run_on_a_directory_is_a_located_error_not_a_traceback(tmp_path, capsys):
    code, out, err = run(capsys, "run", str(tmp_path), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "cannot read file" in err + out
    assert "Traceback" not in out + err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["run"], ["paper", "--start", "2024-01-02", "--end", "2024-01-31"]])
def test_out_that_is_an_existing_file_is_refused_before_any_work(tmp_path, capsys, command):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me", encoding="utf-8")
    code, out, err = run(capsys, command[0], "pipelines/tw_five_factor.yaml", *command[1:], "--out", str(a_file))
    assert code == 1
    assert "is an existing file, not a directory" in " ".join((out + err).split())
    assert "Traceback" not in out + err
    assert a_file.read_text(encoding="utf-8") == "keep me"


def test_error_messages_keep_their_square_brackets(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    monkeypatch.setenv("JGOD_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/x")
    code, out, err = run(capsys, "data", "status")
    assert code == 1
    assert "pip install -e '.[postgres]'" in " ".join(err.split())
