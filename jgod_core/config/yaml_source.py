"""Safe YAML loading that keeps the line and column of every node.

The file is *composed* (never constructed) with ruamel.yaml, then walked by our own code:

- no tag may construct a Python object: only the YAML core tags are accepted;
- duplicate keys are errors, every one of them reported;
- alias expansion is bounded (a "billion laughs" file fails fast without using memory);
- scalars keep their raw text, so ``0050`` written without quotes can be reported as such.

Positions are 1-based. Nothing is templated before parsing: line numbers match the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from jgod_core.config.diagnostics import Diagnostic

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 20_000
MAX_DEPTH = 64

Loc = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "binary")}
_COLLECTION_TAGS = {f"{_CORE}map", f"{_CORE}seq", f"{_CORE}omap"}
# YAML 1.1 base-60 integers: PyYAML and other 1.1 tools read an unquoted 13:30 as 810. We read
# it the same way so an unquoted clock time is reported with a "quote it" hint, whatever tool
# the user checks the file with.
_SEXAGESIMAL_INT = re.compile(r"^[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+$")


@dataclass(frozen=True)
class Mark:
    """A 1-based position in the source file."""

    line: int
    column: int


@dataclass(frozen=True)
class RawScalar:
    """The text of a scalar as written, and whether it was quoted."""

    text: str
    quoted: bool
    tag: str


@dataclass
class SourceDoc:
    """A loaded YAML document: plain Python data plus the position of every node."""

    path: str
    text: str
    data: Any
    value_marks: dict[Loc, Mark] = field(default_factory=dict)
    key_marks: dict[Loc, Mark] = field(default_factory=dict)
    raw: dict[Loc, RawScalar] = field(default_factory=dict)

    def mark(self, loc: Loc, *, key: bool = False) -> Mark:
        """Position of ``loc``; its key when ``key``; else the nearest enclosing node."""
        if key and loc in self.key_marks:
            return self.key_marks[loc]
        probe = tuple(loc)
        while probe:
            if probe in self.value_marks:
                return self.value_marks[probe]
            probe = probe[:-1]
        return self.value_marks.get((), Mark(1, 1))

    def line_text(self, line: int) -> str:
        """Source line ``line`` (1-based); "" outside the file."""
        lines = self.text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


class _Reject(Exception):
    def __init__(self, mark: Mark, message: str, code: str, hint: str = "") -> None:
        super().__init__(message)
        self.mark, self.message, self.code, self.hint = mark, message, code, hint


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar_value(node: ScalarNode, tag: str) -> Any:
    text = node.value
    if tag == f"{_CORE}null":
        return None
    if tag == f"{_CORE}bool":
        return text.lower() in {"true", "yes", "on", "y"}
    if tag == f"{_CORE}int":
        clean = text.replace("_", "")
        sign = -1 if clean.startswith("-") else 1
        body = clean.lstrip("+-")
        if body.lower().startswith(("0x", "0o", "0b")):
            return sign * int(body, 0)
        if len(body) > 1 and body.startswith("0") and body.isdigit():
            # YAML 1.1 reads 0050 as octal; we keep the decimal digits and let the schema object.
            return sign * int(body, 10)
        if ":" in body:  # YAML 1.1 sexagesimal 13:30 -> 810
            total = 0
            for part in body.split(":"):
                total = total * 60 + int(part)
            return sign * total
        return sign * int(body, 10)
    if tag == f"{_CORE}float":
        lowered = text.lower().replace("_", "")
        if lowered in {".inf", "+.inf"}:
            return float("inf")
        if lowered == "-.inf":
            return float("-inf")
        if lowered == ".nan":
            return float("nan")
        return float(lowered)
    return text  # str, timestamp (kept as text; models parse dates), binary


class _Walker:
    def __init__(self, doc: SourceDoc, max_nodes: int) -> None:
        self.doc = doc
        self.max_nodes = max_nodes
        self.count = 0
        self.errors: list[Diagnostic] = []
        self._stack: set[int] = set()

    def error(self, mark: Mark, code: str, message: str, loc: Loc = (), hint: str = "") -> None:
        self.errors.append(
            Diagnostic(self.doc.path, mark.line, mark.column, "error", code, _dotted(loc), message, hint)
        )

    def walk(self, node: Node, loc: Loc, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            # Blame the top-level key being expanded: the aliased node's own mark is elsewhere.
            raise _Reject(
                self.doc.key_marks.get(loc[:1], _mark(node)),
                f"document expands to more than {self.max_nodes} nodes (alias bomb?); aliases are bounded",
                "alias-bomb",
            )
        if depth > MAX_DEPTH:
            raise _Reject(_mark(node), f"nesting deeper than {MAX_DEPTH} levels", "too-deep")
        if id(node) in self._stack:
            raise _Reject(_mark(node), "recursive alias: a node contains itself", "recursive-alias")
        tag = str(node.tag)
        self.doc.value_marks.setdefault(loc, _mark(node))
        if isinstance(node, ScalarNode):
            if tag == f"{_CORE}str" and node.style is None and _SEXAGESIMAL_INT.match(node.value):
                tag = f"{_CORE}int"
            if tag not in _SCALAR_TAGS:
                self.error(_mark(node), "unsafe-tag", f"tag {_short_tag(tag)!r} is not allowed: "
                           "pipeline files never construct objects", loc)
                return None
            self.doc.raw.setdefault(loc, RawScalar(node.value, node.style in ("'", '"'), tag))
            try:
                return _scalar_value(node, tag)
            except ValueError:
                self.error(_mark(node), "yaml-scalar", f"cannot read {node.value!r} as {_short_tag(tag)}", loc)
                return None
        if tag not in _COLLECTION_TAGS:
            self.error(_mark(node), "unsafe-tag", f"tag {_short_tag(tag)!r} is not allowed: "
                       "pipeline files never construct objects", loc)
            return None
        self._stack.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.walk(child, loc + (i,), depth + 1) for i, child in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, loc, depth)
        finally:
            self._stack.discard(id(node))
        raise _Reject(_mark(node), "unsupported YAML node", "yaml-syntax")  # pragma: no cover

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(_mark(key_node), "yaml-key", "mapping keys must be plain names, not collections", loc)
                continue
            if str(key_node.tag) == f"{_CORE}merge":
                self.error(_mark(key_node), "yaml-merge", "merge keys ('<<') are not supported; write the keys out",
                           loc)
                continue
            key = key_node.value
            child = loc + (key,)
            if key in out or child in self.doc.key_marks:
                first = self.doc.key_marks.get(child)
                where = f" (first defined at line {first.line})" if first else ""
                self.error(_mark(key_node), "duplicate-key", f"duplicate key {key!r}{where}", child)
                continue
            self.doc.key_marks[child] = _mark(key_node)
            if isinstance(value_node, ScalarNode) and value_node.value == "" and value_node.style is None:
                # An empty value is marked where the parser stopped (often the next line): point at the key.
                self.doc.value_marks.setdefault(child, _mark(key_node))
            out[key] = self.walk(value_node, child, depth + 1)
        return out


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag


def _dotted(loc: Loc) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def dotted(loc: Loc) -> str:
    """``('phases', 'pre_market', 'steps', 0, 'plugin')`` → ``phases.pre_market.steps[0].plugin``."""
    return _dotted(loc)


def _decode(path: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        bad = data[exc.start : exc.start + 1].hex()
        return None, [Diagnostic(path, line, column, "error", "encoding",
                                 "", f"file is not valid UTF-8 (byte 0x{bad}); save it as UTF-8")]
    return text.removeprefix("\ufeff"), []


def load_yaml_text(text: str, path: str = "<string>", max_nodes: int = MAX_NODES) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Compose ``text`` and return the plain data with positions, or the diagnostics."""
    doc = SourceDoc(path=path, text=text, data=None)
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        return None, [Diagnostic(path, 1, 1, "error", "empty", "", "the pipeline file is empty")]
    yaml = YAML(typ="rt", pure=True)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        hint = ""
        if "\t" in doc.line_text(line) or "'\\t'" in message:
            hint = "YAML indentation uses spaces; replace the tab characters"
        return None, [Diagnostic(path, line, column, "error", "yaml-syntax", "", message, hint)]
    except YAMLError as exc:
        return None, [Diagnostic(path, 1, 1, "error", "yaml-syntax", "", str(exc).strip().splitlines()[0])]
    if node is None:
        return None, [Diagnostic(path, 1, 1, "error", "empty", "", "the pipeline file is empty")]
    walker = _Walker(doc, max_nodes)
    try:
        doc.data = walker.walk(node, ())
    except _Reject as exc:
        return None, walker.errors + [Diagnostic(path, exc.mark.line, exc.mark.column, "error", exc.code, "",
                                                 exc.message, exc.hint)]
    return doc, walker.errors


def load_yaml_file(path: str | Path, max_nodes: int = MAX_NODES) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Read ``path`` (bytes, size-bounded, strict UTF-8) and load it."""
    shown = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Diagnostic(shown, 1, 1, "error", "too-large", "",
                                     f"file is {size} bytes; pipeline files are limited to {MAX_FILE_BYTES}")]
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, [Diagnostic(shown, 1, 1, "error", "io", "", f"cannot read file: {exc.strerror or exc}")]
    return load_yaml_bytes(data, shown, max_nodes)


def load_yaml_bytes(data: bytes, path: str = "<bytes>", max_nodes: int = MAX_NODES) -> tuple[SourceDoc | None, list[Diagnostic]]:
    """Decode ``data`` as strict UTF-8 (a BOM is allowed) and load it."""
    text, errors = _decode(path, data)
    if text is None:
        return None, errors
    return load_yaml_text(text, path, max_nodes)
