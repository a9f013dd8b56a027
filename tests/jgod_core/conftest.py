"""Fixtures shared by the kernel tests."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
YAML_FIXTURES = HERE.parent / "fixtures" / "yaml"


@pytest.fixture
def fixture_plugins_env(monkeypatch: pytest.MonkeyPatch):
    """Environment in which `jgod` loads only ``tests/jgod_core/fixture_plugins.py``.

    The built-in plugins (distribution ``jgod``) are blocked and entry-point autoload is off, so golden outputs (did-you-mean
    hints in particular) do not change when a built-in component is added.
    """
    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("JGOD_PLUGINS", "fixture_plugins")
    monkeypatch.setenv("JGOD_PLUGINS_BLOCK", "jgod")
    # Third-party distributions installed in the environment (the example package) stay out too.
    monkeypatch.setenv("JGOD_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("JGOD_PLUGINS_ALLOW", raising=False)
    import fixture_plugins

    return fixture_plugins
