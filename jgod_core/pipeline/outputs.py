"""What plugins add to a run's outputs: named metrics in ``summary.json`` and sections of ``report.html``.

The runner knows no metric and draws no figure: it asks every plugin through the hooks
``jgod_run_metrics(result)``, ``jgod_report_sections(result)`` and ``jgod_render_report(result,
sections)`` (see :mod:`jgod_core.plugin.spec`), and writes what they return.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from jgod_core.errors import JGodError

#: Summary keys the kernel writes itself; a plugin metric of the same name is an error.
KERNEL_SUMMARY_KEYS = ("pipeline", "data", "universe", "missing_components", "warnings", "trades", "backtest")


class OutputConflictError(JGodError):
    """Two plugins (or a plugin and the kernel) contribute the same summary name."""


@dataclass
class RunInfo:
    """One run as the lifecycle hooks see it: where it writes, when it started, and a place
    (``notes``) where a plugin may keep what it needs between ``jgod_run_started`` and
    ``jgod_run_finished``."""

    out: Path | None
    started_at: dt.datetime
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSection:
    """One section of ``report.html``: a title, trusted HTML (the plugin escapes what it
    interpolates) and optional PNG figures embedded after it as base64 images (no external files).

    ``id``: the HTML id of the section (lower-case, dashes), for links and for tools that look
    for a section.
    """

    title: str
    html: str = ""
    figures_png: tuple[bytes, ...] = ()
    id: str = ""

    def figure_tags(self) -> list[str]:
        """An ``<img>`` tag per figure, the PNG inline."""
        return [f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                for png in self.figures_png]

    def to_html(self) -> str:
        """The section as ``<section id=…><h2>title</h2>html figures</section>``."""
        ident = f" id='{html.escape(self.id)}'" if self.id else ""
        return (f"<section{ident}><h2>{html.escape(self.title)}</h2>{self.html}"
                + "".join(self.figure_tags()) + "</section>")


def collect_metrics(hook: Any, result: Any) -> dict[str, Any]:
    """Every plugin's ``jgod_run_metrics(result)``, merged in hook order.

    A name returned by two plugins, or by a plugin and the kernel (:data:`KERNEL_SUMMARY_KEYS`),
    is an :class:`OutputConflictError` naming both.
    """
    merged: dict[str, Any] = {}
    owner: dict[str, str] = {key: "the kernel" for key in KERNEL_SUMMARY_KEYS}
    for impl in reversed(hook.jgod_run_metrics.get_hookimpls()):  # pluggy's call order
        contributed = impl.function(result=result)
        if not contributed:
            continue
        if not isinstance(contributed, dict):
            raise OutputConflictError(f"plugin {impl.plugin_name!r}: jgod_run_metrics must return a dict, "
                                      f"got {type(contributed).__name__}")
        for name, value in contributed.items():
            if name in owner:
                raise OutputConflictError(f"summary name {name!r} is contributed by {owner[name]} and by "
                                          f"plugin {impl.plugin_name!r}; rename one of them")
            owner[name] = f"plugin {impl.plugin_name!r}"
            merged[name] = value
    return merged


def collect_sections(hook: Any, result: Any) -> list[ReportSection]:
    """Every plugin's ``jgod_report_sections(result)``, flattened in hook order."""
    sections: list[ReportSection] = []
    for contributed in hook.jgod_report_sections(result=result):
        sections.extend(contributed or ())
    return sections


def render_report(hook: Any, result: Any, sections: Iterable[ReportSection], title: str) -> str:
    """``report.html``: the first plugin's ``jgod_render_report``, else a plain page of the sections."""
    sections = list(sections)
    page = hook.jgod_render_report(result=result, sections=sections)
    if page is not None:
        return page
    body = "\n".join(s.to_html() for s in sections)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>")
