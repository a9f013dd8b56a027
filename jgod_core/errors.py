"""Errors shown to users. None of these ever surfaces as a Python traceback from the CLI."""

from __future__ import annotations


class JGodError(Exception):
    """Base of every error J-GOD reports to a user as a message, not a traceback."""


class PluginLoadError(JGodError):
    """A plugin could not be imported or registered. Names the plugin and its distribution."""


class RegistryError(JGodError):
    """A component was registered twice, with a bad kind, or without the declarations."""


class PipelineError(JGodError):
    """A pipeline file is invalid. Carries every diagnostic, not just the first."""

    def __init__(self, diagnostics: list) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].format_line() if diagnostics else "invalid pipeline"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(first + more)


class MissingDataError(JGodError):
    """Data a component needs is absent from the store."""


class SecretError(JGodError):
    """A secret referenced from a pipeline is not set in the environment."""
