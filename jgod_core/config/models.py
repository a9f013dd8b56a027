"""Pydantic models of a pipeline file.

Every model forbids unknown keys, rejects NaN/inf and bounds its numbers. Plugin ``params``
are plain mappings here; they are validated against each plugin's own ``Params`` model when
the pipeline is assembled (:mod:`jgod_core.config.validate`), and the JSON Schema export
(:mod:`jgod_core.config.schema`) substitutes every installed plugin's params model for them.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from jgod_core.errors import SecretError


class StrictModel(BaseModel):
    """Base of every config model: frozen, unknown keys are errors, numbers must be finite."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True)


# -- scalar types ------------------------------------------------------------------------------

_CODE_RE = re.compile(r"^[0-9]{4,6}[A-Z]?$")  # 2330, 0050, 00631L, 2881A
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CLOCK_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_SECRET_RE = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")


def _require_text(kind: str, example: str):
    def check(value: Any) -> Any:
        if isinstance(value, bool) or isinstance(value, (int, float)):
            raise PydanticCustomError(
                "unquoted",
                "{kind} must be a quoted string, e.g. '{example}'; YAML read this value as the number {value}",
                {"kind": kind, "value": value, "example": example},
            )
        return value

    return check


def _code(value: str) -> str:
    code = value.strip().upper().removesuffix(".TW").removesuffix(".TWO")
    if not _CODE_RE.match(code):
        raise PydanticCustomError("stock_code", "not a Taiwan security code: '{value}' (e.g. '2330', '0050')",
                                  {"value": value})
    return code


StockCode = Annotated[
    str,
    BeforeValidator(_require_text("a stock code", "0050")),
    AfterValidator(_code),
    Field(json_schema_extra={"pattern": r"^\s*[0-9]{4,6}[A-Za-z]?(\.[Tt][Ww][Oo]?)?\s*$"}),
]
def _clock(value: str) -> str:
    if not _CLOCK_RE.match(value):
        raise PydanticCustomError("clock_time", "not a clock time HH:MM (00:00-23:59): '{value}'", {"value": value})
    return value


ClockTime = Annotated[
    str,
    BeforeValidator(_require_text("a clock time", "13:30")),
    AfterValidator(_clock),
    Field(json_schema_extra={"pattern": _CLOCK_RE.pattern}),
]
ComponentName = Annotated[str, Field(pattern=_NAME_RE.pattern, description="A registered component name.")]
StepName = Annotated[str, Field(pattern=_NAME_RE.pattern, description="A step name, unique in the pipeline.")]
Weight = Annotated[float, Field(ge=-10.0, le=10.0, description="Linear weight of a factor score.")]


def _secret(value: Any) -> Any:
    if not isinstance(value, str) or not _SECRET_RE.match(value):
        raise PydanticCustomError(
            "secret_literal",
            "secret fields take an environment reference such as '${SHIOAJI_API_KEY}', never a literal value",
        )
    return value


SecretRef = Annotated[
    str,
    AfterValidator(_secret),
    Field(
        description="An environment reference `${NAME}`; the value is read from the environment at run time.",
        json_schema_extra={"pattern": _SECRET_RE.pattern},
    ),
]


def resolve_secret(reference: str | None, environ: dict[str, str] | None = None) -> str | None:
    """Read a ``${NAME}`` reference from the environment. Never logs the value."""
    if reference is None:
        return None
    match = _SECRET_RE.match(reference)
    if not match:
        raise SecretError("secret references look like ${NAME}")
    env = os.environ if environ is None else environ
    name = match.group(1)
    if name not in env or not env[name]:
        raise SecretError(f"environment variable {name} is not set (referenced as ${{{name}}})")
    return env[name]


def require_env(*names: str, purpose: str, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The values of the environment variables ``names`` (credentials of a connector).

    Any of them unset or empty is a :class:`SecretError` naming every variable and ``purpose``;
    values are never logged.
    """
    env = os.environ if environ is None else environ
    values = tuple(env.get(name) or "" for name in names)
    if not all(values):
        raise SecretError(f"{purpose} missing: set {' and '.join(names)} in the environment")
    return values


# -- components --------------------------------------------------------------------------------


class ComponentRef(StrictModel):
    """A component named by its registered short name, with its params."""

    plugin: ComponentName = Field(description="Registered name of the component (see `jgod plugins`).")
    params: dict[str, Any] = Field(default_factory=dict, description="The component's params (see its schema).")


class StepConfig(ComponentRef):
    """One step of a phase: a factor, an engine or a data source."""

    name: StepName | None = Field(None, description="Step name, unique in the pipeline; defaults to the plugin.")
    weight: Weight | None = Field(None, description="Factor weight in the linear combination (factors only).")
    enabled: bool = Field(True, description="Skip this step when false.")

    @property
    def step_name(self) -> str:
        """The step's ``name``, else its plugin name."""
        return self.name or self.plugin


# -- sections ----------------------------------------------------------------------------------


class PluginsConfig(StrictModel):
    """Plugin loading policy, merged with JGOD_PLUGINS_ALLOW / JGOD_PLUGINS_BLOCK."""

    allow: list[str] = Field(default_factory=list, description="Only these third-party plugins may load.")
    block: list[str] = Field(default_factory=list, description="These plugins never load.")


class UniverseConfig(StrictModel):
    """Which securities the pipeline trades."""

    symbols: list[StockCode] = Field(default_factory=list, description="Security codes; empty = every symbol.")
    exclude: list[StockCode] = Field(default_factory=list, description="Codes removed from the universe.")


class DataConfig(StrictModel):
    """Where data comes from and which period a run covers."""

    source: ComponentName = Field("sample", description="Data-source component that fills the store.")
    params: dict[str, Any] = Field(default_factory=dict, description="Params of the data source.")
    store: str | None = Field(
        None, description="SQLAlchemy URL or `${ENV}` reference; default: embedded SQLite in the user data dir."
    )
    start: dt.date | None = Field(None, description="First decision date (inclusive).")
    end: dt.date | None = Field(None, description="Last decision date (inclusive).")
    lookback_days: int = Field(260, ge=0, le=10_000, description="Trading days loaded before `start` for warm-up.")


class PhaseConfig(StrictModel):
    """A phase: when it starts and what it runs."""

    schedule: ClockTime = Field(description="Start time, HH:MM Asia/Taipei, quoted.")
    misfire_grace_seconds: int = Field(300, ge=0, le=3600, description="Late start still allowed by this much.")
    steps: list[StepConfig] = Field(default_factory=list)


class IntradayPhaseConfig(PhaseConfig):
    """The intraday phase: the realtime loop between ``schedule`` and ``end``."""

    schedule: ClockTime = "09:00"
    end: ClockTime = Field("13:30", description="End of the realtime loop, HH:MM Asia/Taipei.")
    warmup_minutes: int = Field(30, ge=0, le=120, description="Feeds connect this long before the open.")


class PreMarketConfig(PhaseConfig):
    """The pre-market phase before the open: the daily run (factors, combined score, target weights)."""

    schedule: ClockTime = "08:30"


class PostMarketConfig(PhaseConfig):
    """The post-market phase after the close: archives the day's intraday summary beside the phase outputs."""

    schedule: ClockTime = "14:00"


class PhasesConfig(StrictModel):
    """The three daily phases (TWSE trading days, Asia/Taipei)."""

    pre_market: PreMarketConfig = Field(default_factory=PreMarketConfig)
    intraday: IntradayPhaseConfig = Field(default_factory=IntradayPhaseConfig)
    post_market: PostMarketConfig = Field(default_factory=PostMarketConfig)


class ComponentSection(BaseModel):
    """A section that names one component by ``plugin:`` and holds its params beside it.

    ``plugin`` may be left out: the section then means the one installed component of its kind
    that declares ``default = True``. Every other key is a param of that component, validated
    against its ``Params`` model when the pipeline is assembled.
    """

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False, validate_default=True)

    plugin: ComponentName | None = Field(
        None, description="Registered name of the component; default: the installed default of its kind.")

    @property
    def params(self) -> dict[str, Any]:
        """The section's keys other than ``plugin``: the component's params."""
        return dict(self.model_extra or {})


class CombineSection(ComponentSection):
    """How factor scores combine into one score per symbol and day: a combiner and its params."""


class PortfolioSection(ComponentSection):
    """How the combined score becomes target weights: a portfolio constructor and its params."""


class RiskConfig(StrictModel):
    """Pre-trade risk rules, in order. Each rule's thresholds are its params."""

    rules: list[ComponentRef] = Field(default_factory=list)
    on_daily_loss_limit: Literal["reducing", "halted"] = "reducing"
    flatten_on_halt: bool = True


class ExecutionConfig(StrictModel):
    """How approved orders reach the market: the router that slices them and the broker that sends them."""

    router: ComponentRef | None = Field(None, description="Router component (slicing, schedules).")
    broker: ComponentRef | None = Field(None, description="Broker component (paper, shioaji).")


class PipelineConfig(StrictModel):
    """A J-GOD pipeline file."""

    version: Literal[1] = Field(1, description="Pipeline file format version.")
    name: StepName = Field(description="Pipeline name.")
    description: str = ""
    market: Literal["TWSE", "TPEx", "TAIFEX"] = "TWSE"
    timezone: Literal["Asia/Taipei"] = "Asia/Taipei"
    venue: ComponentName | None = Field(None, description="Venue component (calendar, instruments, ticks, fees); "
                                                          "default: the single installed venue.")
    plugins: PluginsConfig = Field(default_factory=PluginsConfig)
    universe: UniverseConfig = Field(default_factory=UniverseConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    phases: PhasesConfig = Field(default_factory=PhasesConfig)
    combine: CombineSection = Field(default_factory=CombineSection)
    portfolio: PortfolioSection = Field(default_factory=PortfolioSection)
    backtest: ComponentRef | None = Field(None, description="Backtester component for `jgod run`.")
    risk: RiskConfig = Field(default_factory=RiskConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
