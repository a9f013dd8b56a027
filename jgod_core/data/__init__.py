"""Data access: symbol normalisation, publication times and point-in-time panels.

>>> from jgod_core.storage import open_store
>>> from jgod_core.data import load_panel
>>> panel = load_panel(open_store(), ["2330", "0050"], start=date(2024, 1, 2), lookback_days=60)
"""

from jgod_core.data.panel_loader import load_panel
from jgod_core.data.symbols import SymbolError, normalize_symbol, normalize_symbols

__all__ = ["SymbolError", "load_panel", "normalize_symbol", "normalize_symbols"]
