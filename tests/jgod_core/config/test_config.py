"""Config helpers: credentials read from the environment."""

from __future__ import annotations

import pytest

from jgod_core.config.models import require_env
from jgod_core.errors import SecretError


def test_require_env_returns_the_values_in_the_order_named():
    env = {"KEY": "k-value", "SECRET": "s-value"}
    assert require_env("KEY", "SECRET", purpose="broker credentials", environ=env) == ("k-value", "s-value")


@pytest.mark.parametrize("env", [{}, {"KEY": "k-value"}, {"KEY": "k-value", "SECRET": ""}])
def test_require_env_with_any_variable_unset_or_empty_names_every_variable_and_no_value(env):
    with pytest.raises(SecretError) as info:
        require_env("KEY", "SECRET", purpose="broker credentials", environ=env)
    message = str(info.value)
    assert message == "broker credentials missing: set KEY and SECRET in the environment"
    assert "k-value" not in message
