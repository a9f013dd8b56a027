"""Hook specifications of J-GOD: one registration hook for every component kind, plus lifecycle hooks.

Hooks are for registration and lifecycle, and for decision chains; never for the per-bar or
per-tick hot path (the pipeline calls components directly on arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import pluggy

if TYPE_CHECKING:
    from jgod_core.plugin.components import Component

PROJECT_NAME = "jgod"

#: The plugin API this kernel offers (``jgod_core.API_VERSION``). A plugin module may declare
#: ``JGOD_API_VERSION = "1"`` (the major version it was written against); a different major is a
#: load error. Bumped only when a change would break a published plugin (a renamed hook, a changed
#: base-class contract).
API_VERSION = "1"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def jgod_register_components(register: Callable[[type[Component]], None]) -> None:
    """Register the plugin's components: call ``register(cls)`` once per class.

    Called once when the plugin manager is built. The kind comes from the kernel base class
    ``cls`` subclasses (:class:`jgod_core.Factor`, :class:`jgod_core.Engine`,
    :class:`jgod_core.RiskRule`, :class:`jgod_core.Router`, :class:`jgod_core.Broker`,
    :class:`jgod_core.DataSource`, :class:`jgod_core.Backtester`, :class:`jgod_core.Feed`, ...), so
    adding a component kind adds a base class and no hook. A class that breaks its kind's
    contract (an abstract method left unimplemented, no ``name``, no ``Params``) is a load error
    located at the class and naming the plugin's distribution.
    """


@hookspec
def jgod_pipeline_assembled(pipeline: Any) -> None:
    """Called after a pipeline file is validated and assembled, before it runs.

    ``pipeline`` is the :class:`jgod_core.config.assembly.Pipeline`. Use it for logging or checks;
    raise :class:`jgod_core.errors.JGodError` to refuse the pipeline.
    """


@hookspec
def jgod_run_started(pipeline: Any, run: Any) -> None:
    """Called when ``jgod run`` (or ``run_pipeline``) starts, before any data is read.

    ``pipeline`` is the assembled :class:`jgod_core.config.assembly.Pipeline`; ``run`` the
    :class:`jgod_core.pipeline.outputs.RunInfo` (output directory, start time, a ``notes`` dict
    the plugin may keep things in until ``jgod_run_finished``).
    """


@hookspec
def jgod_run_finished(pipeline: Any, run: Any, result: Any) -> None:
    """Called after a run succeeded and its outputs were written (when it has an output directory).

    ``result`` is the :class:`jgod_core.pipeline.runner.RunResult` (summary and report included).
    Not called for a run that failed.
    """


@hookspec
def jgod_run_metrics(result: Any) -> dict[str, Any] | None:
    """Named metrics of a finished run, merged into ``summary.json`` (and ``result.summary``).

    Called once per run, after the backtest, with the :class:`jgod_core.pipeline.runner.RunResult`
    (``summary`` still empty). Return ``{name: JSON-able value}`` or None. A name another plugin
    (or the kernel: ``pipeline``, ``data``, ``universe``, ``missing_components``, ``warnings``,
    ``trades``, ``backtest``) also returns is an error naming both.
    """


@hookspec
def jgod_report_sections(result: Any) -> list[Any] | None:
    """Sections for a run's ``report.html``: a list of :class:`jgod_core.pipeline.outputs.ReportSection`.

    Called once per report with the run's result: a :class:`jgod_core.pipeline.runner.RunResult`
    for ``jgod run``, a :class:`jgod_core.execution.paper.PaperResult` for ``jgod paper``; return
    None for a result you have nothing to say about. Sections appear in hook order
    (``tryfirst`` implementations first).
    """


@hookspec(firstresult=True)
def jgod_render_report(result: Any, sections: list[Any]) -> str | None:
    """The whole ``report.html`` of a run: ``sections`` (every plugin's, in order) laid out as a page.

    Return the HTML text, or None to leave it to another plugin (the kernel falls back to a
    plain page). Stops at first non-None result.
    """


@hookspec(firstresult=True)
def jgod_pretrade_check(order: Any, context: Any) -> Any | None:
    """Judge one order before it may reach an execution component.

    Called by the risk engine for each order, after the pipeline's own risk rules.
    Return a denial verdict to stop the order, or ``None`` to let it pass.
    Stops at first non-None result.
    """


@hookspec
def jgod_register_commands(app: Any) -> None:
    """Add commands to the ``jgod`` command line (as datasette's ``register_commands(cli)``).

    Called once per process for each plugin, when the command line is built and before its
    arguments are parsed. ``app`` is the root :class:`typer.Typer`: add a command with
    ``app.command("name")(function)`` or a group with ``app.add_typer(group, name="name")``; the
    kernel's own groups are importable (``jgod_core.cli.data.data_app`` is ``jgod data``). Keep
    the hook cheap (import heavy modules inside the command). A hook that raises is an error
    naming the plugin and its distribution.
    """
