"""Taiwan security codes: ``2330``, ``2330.TW``, ``'0050'``, ``6488.TWO``, ``00679B`` → one canonical string.

Codes are strings, always: ``0050`` as the integer 50 has lost its leading zeros, so numbers are
rejected with a message saying how to quote them. The ``.TW`` (TWSE) / ``.TWO`` (TPEx) suffixes
of Yahoo-style tickers are dropped; the market comes from the security master.
"""

from __future__ import annotations

import re
from typing import Iterable

from jgod_core.errors import JGodError

_CODE = re.compile(r"^[0-9]{4,6}[A-Z]{0,2}$")
_SUFFIXES = (".TWO", ".TW")


class SymbolError(JGodError):
    """A security code that cannot be a TWSE/TPEx code."""


def normalize_symbol(raw: object) -> str:
    """The canonical code of ``raw`` (``' 2330.tw '`` → ``'2330'``); raises :class:`SymbolError`."""
    if isinstance(raw, bool) or not isinstance(raw, str):
        if isinstance(raw, int):
            raise SymbolError(
                f"security code {raw!r} is a number; codes keep their leading zeros, "
                f"so write it as a quoted string, e.g. '{raw:04d}'"
            )
        raise SymbolError(f"security code {raw!r} must be a string such as '2330' or '0050'")
    code = raw.strip().upper()
    for suffix in _SUFFIXES:
        if code.endswith(suffix):
            code = code[: -len(suffix)]
            break
    if not _CODE.match(code):
        raise SymbolError(
            f"{raw!r} is not a TWSE/TPEx security code (expected 4-6 digits and an optional letter, e.g. '2330', '00679B')"
        )
    return code


def normalize_symbols(raw: Iterable[object] | str) -> list[str]:
    """Canonical codes, in order, without duplicates; a string is split on commas."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        seen.setdefault(normalize_symbol(item), None)
    return list(seen)
