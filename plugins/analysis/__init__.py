"""The built-in analysis plugin: a run's metrics in ``summary.json`` and its ``report.html``.

Hooks (no components): ``jgod_run_metrics`` (performance, per-factor IC, decay, quintiles;
:mod:`jgod_plugins.analysis.run_analysis`), ``jgod_report_sections`` (the run's sections,
:mod:`jgod_plugins.analysis.report`; the risk and execution section of a paper run,
:mod:`jgod_plugins.analysis.risk_report`) and ``jgod_render_report`` (the page around every
plugin's sections). Its metrics and sections come first (``tryfirst``), other plugins' after.
"""

from __future__ import annotations

from typing import Any

from jgod_core import hookimpl


def _is_run(result: Any) -> bool:
    from jgod_core.pipeline.runner import RunResult

    return isinstance(result, RunResult)


def _is_paper(result: Any) -> bool:
    from jgod_core.execution.paper import PaperResult

    return isinstance(result, PaperResult)


@hookimpl(tryfirst=True)
def jgod_run_metrics(result):
    """``metrics``, ``factors``, ``combined`` and ``quantile_analysis`` of a run."""
    from jgod_plugins.analysis.run_analysis import summary_entries

    return summary_entries(result) if _is_run(result) else None


@hookimpl(tryfirst=True)
def jgod_report_sections(result):
    """The run's sections (metrics, equity, IC, decay, quintiles, correlation, radar, signals,
    missing components, universe), or the risk and execution section of a paper run."""
    if _is_run(result):
        from jgod_plugins.analysis.report import run_sections

        return run_sections(result)
    if _is_paper(result):
        from jgod_plugins.analysis.risk_report import risk_section

        return [risk_section(result)]
    return None


@hookimpl
def jgod_render_report(result, sections):
    """The run's page (``templates/report.html.j2``): title, pipeline, period, warnings, sections."""
    if not _is_run(result):
        return None
    from jgod_plugins.analysis.report import render_page

    return render_page(result, sections)
