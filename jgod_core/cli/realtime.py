"""CLI commands of the realtime area: ``jgod replay``, ``jgod serve``, ``jgod status``."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

DEFAULT_STORE = "sqlite:///runs/serve/scheduler.db"


def _store_url(store: Optional[str]) -> str:
    url = store or DEFAULT_STORE
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return url


def _trading_state_line() -> str:
    """The kill switch as `jgod halt` / `jgod resume` left it in the store (JGOD_DB_URL or the data dir)."""
    from jgod_core.execution.orders import TradingState
    from jgod_core.risk.engine import TradingStateStore
    from jgod_core.storage import open_store

    state = TradingStateStore(open_store().engine).current()
    if state.state is TradingState.ACTIVE:
        return f"trading state: ACTIVE ({state.reason})"
    return (f"trading state: {state.state.value} since {state.ts:%Y-%m-%d %H:%M:%S} UTC ({state.reason}); "
            "`jgod resume` returns to ACTIVE")


def _replay_on_virtual_clock(pipeline, day: dt.date):
    """The whole trading date through the live loop on virtual time (00:00 to 24:00 on the venue's clock)."""
    import pandas as pd

    from jgod_core.realtime.clock import LoopClock, VirtualTimeLoop
    from jgod_core.realtime.session import IntradaySession
    from jgod_core.venue import venue_for

    start = pd.Timestamp(day, tz=venue_for(pipeline).timezone).value
    loop = VirtualTimeLoop()
    try:
        return IntradaySession(pipeline).run_live(day, start + 86_400_000_000_000 - 1, clock=LoopClock(loop, start))
    finally:
        loop.close()


def register(app: typer.Typer) -> None:
    """Add the ``replay``, ``serve`` and ``status`` commands to ``app``."""
    from jgod_core.cli import _load_or_exit, console, err_console

    @app.command()
    def replay(
        pipeline_path: Path = typer.Argument(..., metavar="PIPELINE", help="Intraday pipeline file."),
        date: str = typer.Option(..., "--date", help="Trade date to replay, YYYY-MM-DD."),
        out: Path = typer.Option(Path("runs/replay"), "--out", "-o", help="Output directory."),
        live_loop: bool = typer.Option(False, "--live-loop", help="Run it through the live loop (feed sessions, "
                                                                  "decision timer) on a virtual clock instead."),
    ) -> None:
        """Replay a recorded session: feeds → processor → factors → signal → risk gate → paper broker."""
        from jgod_core.realtime.session import IntradaySession, write_outputs

        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            err_console.print(f"error: --date {date!r} is not YYYY-MM-DD")
            raise typer.Exit(2) from None
        pipeline = _load_or_exit(pipeline_path)
        if live_loop:
            result = _replay_on_virtual_clock(pipeline, day)
        else:
            result = IntradaySession(pipeline).replay(day)
        paths = write_outputs(result, out, day, pipeline)
        console.print(f"{result.events} events, {result.decisions} decisions, {len(result.orders)} orders "
                      f"({', '.join(f'{k} {v}' for k, v in result.orders['outcome'].value_counts().items()) or '-'}), "
                      f"{len(result.fills)} fills; dropped {result.dropped}")
        for component, why in sorted(result.missing.items()):
            console.print(f"missing {component}: {why}")
        console.print(f"orders: {paths['orders']}")
        console.print(f"orders sha256 {result.orders_sha256}")

    @app.command()
    def serve(
        pipeline_path: Path = typer.Argument(..., metavar="PIPELINE", help="Pipeline file."),
        once: Optional[str] = typer.Option(None, "--once", help="Run one phase now: pre_market | intraday | "
                                                                "post_market."),
        store: Optional[str] = typer.Option(None, "--store", help=f"Job store URL (default {DEFAULT_STORE})."),
        out: Path = typer.Option(Path("runs/serve"), "--out", "-o", help="Root of the phase outputs."),
        metrics_port: int = typer.Option(0, "--metrics-port", help="Serve Prometheus metrics on this port (0: off)."),
    ) -> None:
        """Run the pre-market, intraday and post-market phases on their schedule (the venue's trading days and zone)."""
        from jgod_core.plugin.components import Phase
        from jgod_core.scheduling import scheduler as sched

        phase = None
        if once is not None:
            try:
                phase = Phase(once)
            except ValueError:
                err_console.print(f"error: --once takes pre_market, intraday or post_market, not {once!r}")
                raise typer.Exit(2) from None
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)  # migration chatter is not service news
        pipeline = _load_or_exit(pipeline_path)
        url = _store_url(store)
        metrics = None
        if metrics_port:
            from jgod_core.realtime.metrics import RealtimeMetrics

            metrics = sched.SERVICE.metrics = RealtimeMetrics()
            metrics.serve(metrics_port)
            console.print(f"metrics on http://127.0.0.1:{metrics_port}/metrics")
        if phase is not None:
            from jgod_core.timeutil import zone
            from jgod_core.venue import venue_for

            today = dt.datetime.now(dt.timezone.utc).astimezone(zone(venue_for(pipeline).timezone)).date()
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            detail = sched.execute_phase(pipeline, phase, today, out, stop, metrics)
            sched.RunLog(url).record(pipeline.config.name, phase.value, None, "ran", f"--once: {detail}")
            console.print(f"{phase.value}: {detail}")
            return
        scheduler = sched.build_scheduler(pipeline, url, str(out))
        console.print(f"serving {pipeline.config.name}: job store {url}; SIGTERM or Ctrl-C stops cleanly")
        sched.serve_forever(scheduler)

    @app.command()
    def status(
        store: Optional[str] = typer.Option(None, "--store", help=f"Job store URL (default {DEFAULT_STORE})."),
    ) -> None:
        """Next run time of every scheduled phase and the latest runs, skips and failures."""
        from rich.table import Table

        from jgod_core.scheduling import scheduler as sched

        url = _store_url(store)
        table = Table(title="scheduled phases")
        table.add_column("job")
        table.add_column("next run (with its UTC offset)")
        jobs = sched.next_runs(url)
        for job, when in jobs:
            table.add_row(job, when.isoformat() if when else "paused")
        console.print(table)
        if not jobs:
            console.print(f"no scheduled phases in {url}; `jgod serve PIPELINE` schedules them")
        runs = Table(title="latest runs")
        for col in ("recorded (UTC)", "pipeline", "phase", "scheduled", "status", "detail"):
            runs.add_column(col)
        for r in sched.RunLog(url).rows(20):
            runs.add_row(r["recorded"].isoformat(timespec="seconds"), r["pipeline"], r["phase"],
                         r["scheduled"].isoformat() if r["scheduled"] else "-", r["status"], r["detail"] or "")
        console.print(runs)
        console.print(_trading_state_line())
