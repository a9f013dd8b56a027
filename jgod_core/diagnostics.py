"""Diagnostics: located errors and warnings, formatted like a compiler (rustc/ruff style)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a file, at a 1-based line and column."""

    path: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    code: str
    loc: str
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format_line(self) -> str:
        """``path:line:col: error: loc: message`` — one line, grep- and editor-friendly."""
        where = f"{self.loc}: " if self.loc else ""
        return f"{self.path}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"

    def format_human(self, source_line: str | None) -> str:
        """The one-line form, then the offending source line with a caret, then the hint."""
        out = [self.format_line()]
        if source_line is not None and source_line.strip():
            number = str(self.line)
            pad = " " * len(number)
            shown = source_line.replace("\t", " ")
            out.append(f" {pad} |")
            out.append(f" {number} | {shown}")
            out.append(f" {pad} | {' ' * (self.column - 1)}^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def to_json(self) -> dict:
        return asdict(self)


def sort_key(d: Diagnostic) -> tuple:
    return (d.path, d.line, d.column, d.severity != "error", d.message)
