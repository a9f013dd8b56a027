"""The author's kit: test data, factories and contract checks for J-GOD plugins.

Works without pytest:

- :mod:`jgod_core.testing.kit` — ``make_panel`` (a real slice of the shipped sample),
  ``sample_store``, ``market_view``, ``risk_context``, ``real_order``, ``virtual_clock``;
- :mod:`jgod_core.testing.contracts` — ``check_factor``, ``check_rule``, ``check_router``,
  ``check_broker`` (raise :class:`~jgod_core.testing.contracts.ContractError`, an AssertionError).

With pytest installed this package is also a pytest plugin (``-p jgod_core.testing``, autoloaded
through the ``pytest11`` entry point once ``jgod`` is installed), whose fixtures live in
:mod:`jgod_core.testing.pytest_plugin`: ``jgod_kernel``, ``make_kernel``, ``pipeline_from_yaml``,
``make_panel``, ``market_view``, ``risk_context``, ``virtual_clock``.
"""

from __future__ import annotations

from typing import Any

_KIT = ("make_panel", "sample_store", "market_view", "risk_context", "real_order", "virtual_clock")
_CONTRACTS = ("ContractError", "FactorReport", "check_factor", "check_rule", "check_router", "check_broker")

__all__ = [*_KIT, *_CONTRACTS]


def __getattr__(name: str) -> Any:  # the kit loads on first use, so pytest's autoload stays cheap
    if name in _KIT:
        from jgod_core.testing import kit

        return getattr(kit, name)
    if name in _CONTRACTS:
        from jgod_core.testing import contracts

        return getattr(contracts, name)
    raise AttributeError(f"module 'jgod_core.testing' has no attribute {name!r}")


try:
    import pytest as _pytest  # noqa: F401  (fixtures only when pytest is there)
except ModuleNotFoundError:  # pragma: no cover - exercised by a subprocess test
    pass
else:
    from jgod_core.testing.pytest_plugin import (  # noqa: F401  (pytest collects fixtures from this module)
        jgod_kernel,
        make_kernel,
        make_panel_fixture,
        market_view_fixture,
        pipeline_from_yaml,
        risk_context_fixture,
        virtual_clock_fixture,
    )
