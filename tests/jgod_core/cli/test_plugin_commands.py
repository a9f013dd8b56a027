"""Plugins add CLI commands through ``jgod_register_commands(app)`` (datasette's ``register_commands``)."""

from __future__ import annotations

import sys
import types

import pytest
import typer

from jgod_core import hookimpl
from jgod_core.cli import app, main


@pytest.fixture(autouse=True)
def _restore_commands():
    """A test plugin's command must not outlive its test (the app is one per process)."""
    commands, groups = list(app.registered_commands), list(app.registered_groups)
    yield
    app.registered_commands[:] = commands
    app.registered_groups[:] = groups


def _plugin(monkeypatch, name: str, hook) -> None:
    """Register module ``name`` with the hook implementation ``hook`` as a local plugin (JGOD_PLUGINS)."""
    module = types.ModuleType(name)
    module.jgod_register_commands = hookimpl(hook)
    monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setenv("JGOD_PLUGINS", name)


def test_register_commands_when_plugin_adds_a_command_then_jgod_runs_it(monkeypatch, capsys):
    def add(app: typer.Typer) -> None:
        @app.command("hello-from-test-plugin")
        def hello() -> None:
            print("hello from a plugin command")

    _plugin(monkeypatch, "jgod_test_commands_plugin", add)

    code = main(["hello-from-test-plugin"])

    assert code == 0
    assert "hello from a plugin command" in capsys.readouterr().out


def test_register_commands_when_hook_raises_then_error_names_the_plugin_without_traceback(monkeypatch, capsys):
    def broken(app):
        raise RuntimeError("boom")

    _plugin(monkeypatch, "jgod_test_broken_commands", broken)

    code = main(["--help"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == 1
    assert ("error: plugin 'jgod_test_broken_commands' (distribution 'local') failed in jgod_register_commands: "
            "RuntimeError: boom") in err
    assert "Traceback" not in err


def test_data_fetch_is_added_by_the_data_plugin(capsys):
    code = main(["data", "fetch", "--help"])

    assert code == 0
    assert "--source" in capsys.readouterr().out
