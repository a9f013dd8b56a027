"""Make ``src/`` importable when the package is not installed (running from a checkout)."""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("jgod_example_momentum") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
