"""Trading commands: ``jgod paper``, ``jgod trade``, ``jgod halt``, ``jgod resume``, ``jgod audit verify``.

``halt`` and ``resume`` write the trading state into the store; a running engine re-reads it before
each decision, so they work from another terminal and survive restarts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from jgod_core.errors import JGodError
from jgod_core.venue import venue_for

console = Console()
err_console = Console(stderr=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)

STORE_HELP = "SQLAlchemy URL of the store (default: JGOD_DB_URL, else the SQLite file in the J-GOD data dir)."


def _store_url(url: Optional[str], pipeline=None) -> Optional[str]:
    if url is None and pipeline is not None:
        url = pipeline.config.data.store
    if url is not None and url.startswith("${"):
        from jgod_core.config.models import resolve_secret

        url = resolve_secret(url)
    return url


def _open(url: Optional[str]):
    from jgod_core.storage import open_store

    return open_store(url)


def paper(
    pipeline_path: Path = typer.Argument(..., metavar="PIPELINE", help="Pipeline file."),
    start: Optional[str] = typer.Option(None, "--start", help="First trading day (YYYY-MM-DD); default data.start."),
    end: Optional[str] = typer.Option(None, "--end", help="Last trading day (YYYY-MM-DD); default data.end."),
    out: Path = typer.Option(Path("runs/paper"), "--out", "-o", help="Output directory."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    cash: float = typer.Option(10_000_000.0, "--cash", min=100_000, help="Initial cash, NT$."),
) -> None:
    """Paper-trade the pipeline's daily target weights through the risk gate, router and paper broker."""
    from jgod_core.cli import _load_or_exit, check_out_dir
    from jgod_core.execution.orders import TradingState
    from jgod_core.execution.paper import PaperSettings, run_paper
    from jgod_core.pipeline.runner import run_pipeline

    start_day, end_day = _day(start, "--start"), _day(end, "--end")
    check_out_dir(out)
    pipeline = _load_or_exit(pipeline_path)
    cfg = pipeline.config
    start_day = start_day or cfg.data.start
    end_day = end_day or cfg.data.end
    if start_day is None or end_day is None:
        raise JGodError("give --start and --end (or data.start / data.end in the pipeline)")
    if end_day < start_day:
        raise JGodError(f"--end {end_day} is before --start {start_day}")
    pipeline.config = cfg.model_copy(update={"data": cfg.data.model_copy(update={"start": start_day, "end": end_day})})
    opened = _open(_store_url(store, pipeline))
    state = _state_store(opened).current()
    if state.state is not TradingState.ACTIVE:
        err_console.print(f"[yellow]note[/yellow]: the store's trading state is {state.state.value} "
                          f"({state.reason}); run `jgod resume` to trade")
    rules = [step.build() for step in pipeline.risk_rules]
    router_step, broker_step = pipeline.router, pipeline.broker
    router = router_step.build() if router_step else _default(pipeline, "router")
    broker = broker_step.build() if broker_step else _default(pipeline, "broker")
    if not _simulated(broker):  # refused before any work
        raise JGodError(f"`jgod paper` needs a simulated broker (e.g. the paper broker); "
                        f"the pipeline names {broker.name!r}")
    run = run_pipeline(pipeline, out=out, store=opened, progress=True, console=console)
    result = run_paper(run.panel, run.target_weights, start_day, end_day, out, rules=rules, router=router,
                       broker=broker, store_engine=opened.engine,
                       pretrade_hook=pipeline.kernel.pm.hook.jgod_pretrade_check,
                       on_daily_loss_limit=TradingState(cfg.risk.on_daily_loss_limit.upper()),
                       flatten_on_halt=cfg.risk.flatten_on_halt, settings=PaperSettings(initial_cash=cash),
                       pipeline_sha=pipeline.sha256, venue=venue_for(pipeline), report_hook=pipeline.kernel.hook)
    s = result.summary
    console.print(f"paper {s['first_day']} .. {s['last_day']}: {s['parent_orders']} parent orders, {s['fills']} fills, "
                  f"final equity NT${s['final_equity']:,.0f}")
    console.print(f"denials by rule: {s['denials_by_rule'] or '-'}; reductions by rule: {s['reductions_by_rule'] or '-'}")
    if s["mean_execution_residual_bps"] is not None:
        console.print(f"execution residual: mean {s['mean_execution_residual_bps']:.2f} bps "
                      f"(actual {s['mean_actual_cost_bps']:.2f} − predicted {s['mean_predicted_cost_bps']:.2f})")
    console.print(f"wrote {out}/ (orders.csv, fills.csv, risk_verdicts.csv, trading_state.csv, "
                  "execution_residual.csv, equity.csv, risk_report.html, report.html)")


def trade(
    pipeline_path: Path = typer.Argument(..., metavar="PIPELINE", help="Pipeline file (execution.broker: shioaji …)."),
    date: Optional[str] = typer.Option(None, "--date", help="Trading day (YYYY-MM-DD); default today at the pipeline's venue."),
    out: Path = typer.Option(Path("runs/trade"), "--out", "-o", help="Output directory."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    cash: Optional[float] = typer.Option(None, "--cash", min=0, help="Most cash to use, NT$ (default: what the "
                                                                     "broker reports; needed if it reports none)."),
) -> None:
    """Send the day's target orders through the risk gate and router to the pipeline's broker (live or simulation)."""
    from zoneinfo import ZoneInfo

    from jgod_core.cli import _load_or_exit
    from jgod_core.execution.live import trade_day
    from jgod_core.execution.orders import TradingState
    from jgod_core.pipeline.runner import run_pipeline

    given = _day(date, "--date")
    pipeline = _load_or_exit(pipeline_path)
    day = given or dt.datetime.now(ZoneInfo(venue_for(pipeline).timezone)).date()  # today at the venue
    cfg = pipeline.config
    if pipeline.broker is None:
        raise JGodError(f"{pipeline_path}: execution.broker is not set (e.g. `plugin: shioaji`)")
    broker = pipeline.broker.build()
    if _simulated(broker):
        raise JGodError(f"{pipeline_path}: execution.broker is {broker.name}, a simulated broker; "
                        "use `jgod paper` to paper-trade")
    broker.connect()  # credentials from the environment only; missing ones stop here, before any order
    simulation = not broker.sends_real_orders()
    console.print(f"{broker.name}: connected ({'simulation' if simulation else 'PRODUCTION: real orders'})")
    end = day - dt.timedelta(days=1)
    pipeline.config = cfg.model_copy(update={"data": cfg.data.model_copy(update={"end": end})})
    opened = _open(_store_url(store, pipeline))
    run = run_pipeline(pipeline, out=out, store=opened, progress=False)
    router_step = pipeline.router
    router = router_step.build() if router_step else _default(pipeline, "router")
    summary = trade_day(run.panel, run.target_weights, day, out, rules=[s.build() for s in pipeline.risk_rules],
                        router=router, broker=broker, store_engine=opened.engine,
                        pretrade_hook=pipeline.kernel.pm.hook.jgod_pretrade_check,
                        on_daily_loss_limit=TradingState(cfg.risk.on_daily_loss_limit.upper()),
                        flatten_on_halt=cfg.risk.flatten_on_halt, cash_cap=cash,
                        is_real_trade=not simulation, pipeline_sha=pipeline.sha256, venue=venue_for(pipeline))
    console.print(f"{summary['day']} (decided on {summary['decision_date']} data): {summary['parent_orders']} parent "
                  f"orders, {summary['child_orders_sent']} sent to {summary['broker']}, {summary['fills']} fills so far")
    if summary["position_differences"]:
        err_console.print(f"[yellow]note[/yellow]: broker positions differ from the journal's fills (trading from "
                          f"the broker's): {summary['position_differences']}")
    console.print(f"wrote {out}/ (orders.csv, fills.csv, risk_verdicts.csv, trade_summary.json)")


def _simulated(broker) -> bool:
    """Whether ``broker`` fills in-process, never at a venue: its class declares ``simulated = True``."""
    return type(broker).simulated


def _default(pipeline, kind: str):
    """The component of ``kind`` ("router" or "broker") a pipeline without ``execution.<kind>`` uses:
    the one installed component of that kind whose class declares ``is_default = True``."""
    from jgod_core.plugin.components import ComponentKind

    wanted = ComponentKind.ROUTER if kind == "router" else ComponentKind.BROKER
    defaults = sorted((e for e in pipeline.kernel.registry if e.kind == wanted and e.cls.is_default),
                      key=lambda e: e.name)
    where = f"{pipeline.path}: " if getattr(pipeline, "path", None) else ""
    if not defaults:
        raise JGodError(f"{where}no execution.{kind} in the pipeline and no installed {kind} is a default; "
                        f"add one, e.g. `execution: {{{kind}: {{plugin: NAME}}}}` "
                        f"(installed: {', '.join(pipeline.kernel.registry.names(wanted)) or 'none'})")
    if len(defaults) > 1:
        raise JGodError(f"{where}no execution.{kind} in the pipeline and several installed {kind}s declare "
                        f"themselves the default ({', '.join(e.name for e in defaults)}); name one in "
                        f"execution.{kind}")
    return defaults[0].cls()


def _day(text: Optional[str], flag: str) -> Optional[dt.date]:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise JGodError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def _state_store(opened):
    from jgod_core.risk.engine import TradingStateStore

    return TradingStateStore(opened.engine)


def _set_state(state_name: str, reason: str, actor: str, store: Optional[str]) -> None:
    from jgod_core.execution.audit import AuditLog
    from jgod_core.execution.orders import TradingState
    from jgod_core.risk.engine import RiskEngine

    opened = _open(_store_url(store))
    engine = RiskEngine([], state_store=_state_store(opened), audit=AuditLog(opened.engine))
    change = engine.transition(TradingState(state_name), reason, actor=actor)
    console.print(f"already {state_name}" if change is None else
                  f"{state_name} at {change.ts:%Y-%m-%d %H:%M:%S} UTC: {reason}")


def halt(
    reason: str = typer.Option("operator kill switch", "--reason", help="Why trading stops (journaled)."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Move the engine to HALTED: it cancels open orders, sends nothing new, flattens if the pipeline says so."""
    _set_state("HALTED", reason, "jgod halt", store)


def resume(
    reason: str = typer.Option("resumed by operator", "--reason", help="Why trading resumes (journaled)."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Return the engine to ACTIVE (only a person does this after a halt or a circuit breaker)."""
    _set_state("ACTIVE", reason, "jgod resume", store)


@audit_app.command("verify")
def audit_verify(store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP)) -> None:
    """Check the audit hash chain; name the first record edited, deleted, inserted or moved."""
    from jgod_core.execution.audit import AuditLog

    result = AuditLog(_open(_store_url(store)).engine).verify()
    if result.ok:
        console.print(result.message())
        return
    err_console.print(f"[red]error[/red]: {result.message()}")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the trading commands to the main CLI."""
    app.command("paper")(paper)
    app.command("trade")(trade)
    app.command("halt")(halt)
    app.command("resume")(resume)
    app.add_typer(audit_app, name="audit")
