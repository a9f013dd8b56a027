"""Diagnostics: located errors and warnings, formatted like a compiler (rustc/ruff style)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

REDACTED_CODES = frozenset({"secret_literal"})
"""Diagnostics whose source excerpt is cut at the column: the value may be a real secret."""


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
        """True for an error (a warning does not fail validation)."""
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
            if self.code in REDACTED_CODES:  # never echo what may be a real secret
                shown = shown[: self.column - 1] + "<redacted>"
            out.append(f" {pad} |")
            out.append(f" {number} | {shown}")
            out.append(f" {pad} | {' ' * (self.column - 1)}^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def to_json(self) -> dict:
        """The fields as a JSON-ready dict (``jgod validate --format json``)."""
        return asdict(self)


def sort_key(d: Diagnostic) -> tuple:
    """Report order: by file and position, errors before warnings at the same place."""
    return (d.path, d.line, d.column, d.severity != "error", d.message)
