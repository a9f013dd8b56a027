"""Pytest plugin for J-GOD and third-party plugin authors (``-p jgod_core.testing``, autoloaded).

Fixtures:

- ``jgod_kernel``: the kernel with every installed plugin;
- ``make_kernel(*plugins)``: a kernel with extra in-process plugins (temporary registration);
- ``pipeline_from_yaml(text)``: a validated pipeline built from a YAML string.
"""

from __future__ import annotations

import textwrap
from typing import Any, Callable

import pytest

from jgod_core.plugin.manager import Kernel, PluginPolicy, load_kernel
from jgod_core.config.validate import load_pipeline_text


@pytest.fixture(scope="session")
def jgod_kernel() -> Kernel:
    """The kernel with every installed plugin (built-ins and third-party)."""
    return load_kernel(PluginPolicy())


@pytest.fixture
def make_kernel() -> Callable[..., Kernel]:
    """Build a kernel with extra plugins: ``make_kernel(("name", module_or_object), ...)``."""

    def make(*plugins: tuple[str, Any], policy: PluginPolicy | None = None) -> Kernel:
        return load_kernel(policy or PluginPolicy(), extra_plugins=plugins)

    return make


@pytest.fixture
def pipeline_from_yaml(jgod_kernel: Kernel):
    """Build a validated pipeline from a YAML string (dedented)."""

    def build(text: str, kernel: Kernel | None = None):
        return load_pipeline_text(textwrap.dedent(text), "<test>", kernel or jgod_kernel)

    return build
