"""The three-phase scheduler (APScheduler 3.x): pre-market, intraday, post-market on trading days.

Each phase of a pipeline becomes one cron job (Mon–Fri at the phase's ``schedule`` in the zone of
the pipeline's venue, :func:`jgod_core.venue.venue_for` — Asia/Taipei for ``tw``; the intraday
job ``warmup_minutes`` earlier — feeds connect early, orders start at ``schedule``) in a
persistent SQLAlchemy job store, with ``misfire_grace_time`` from the phase's
``misfire_grace_seconds``, ``max_instances=1`` and ``coalesce=True``: after a restart, a run
missed by less than the grace runs once; a run missed by more is skipped and the skip is
recorded. A job that fires on a day the venue has no session (a holiday) records a skip and does
nothing. Every run, skip and failure is a row of the ``phase_runs`` table beside the job store
(``jgod status`` shows them with the next run times).
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, insert, select

from jgod_core.errors import JGodError
from jgod_core.plugin.components import Phase
from jgod_core.timeutil import zone
from jgod_core.venue import use_venue, venue_for

log = logging.getLogger("jgod.scheduler")
_META = MetaData()
PHASE_RUNS = Table(
    "phase_runs", _META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(64), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("scheduled", DateTime),
    Column("recorded", DateTime, nullable=False),
    Column("status", String(16), nullable=False),  # ran | skipped_holiday | missed | failed
    Column("detail", Text),
)


def job_id(pipeline_name: str, phase: Phase) -> str:
    """The job store id of a pipeline's phase job: ``<pipeline>:<phase>``."""
    return f"{pipeline_name}:{phase.value}"


class RunLog:
    """The ``phase_runs`` table: one row per run, skip or failure."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        _META.create_all(self.engine)

    def record(self, pipeline: str, phase: str, scheduled: dt.datetime | None, status: str, detail: str = "") -> None:
        """Append one row (``detail`` cut to 2,000 characters; times naive UTC)."""
        with self.engine.begin() as conn:
            conn.execute(insert(PHASE_RUNS).values(
                pipeline=pipeline, phase=phase, scheduled=scheduled.replace(tzinfo=None) if scheduled else None,
                recorded=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), status=status, detail=detail[:2000]))

    def rows(self, limit: int = 50) -> list[dict]:
        """The latest ``limit`` rows, newest first."""
        with self.engine.connect() as conn:
            result = conn.execute(select(PHASE_RUNS).order_by(PHASE_RUNS.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in result]


@dataclass
class ServeContext:
    """What the one ``jgod serve`` of a process shares with its phase jobs (they run in the
    scheduler's threads and are stored by name, so they cannot be handed objects): the stop
    request set on SIGTERM, and the Prometheus metrics the live loop fills."""

    stop: threading.Event = field(default_factory=threading.Event)
    metrics: Any = None


SERVICE = ServeContext()


def run_phase(pipeline_path: str, phase: str, store_url: str, out_root: str) -> str:
    """The job body (module-level so the persistent store can name it). Skips non-trading days."""
    from jgod_core.config.validate import load_pipeline

    pipeline = load_pipeline(pipeline_path)
    venue = venue_for(pipeline)
    today = dt.datetime.now(dt.timezone.utc).astimezone(zone(venue.timezone)).date()
    runs = RunLog(store_url)
    if not venue.is_trading_day(today):
        runs.record(pipeline.config.name, phase, None, "skipped_holiday",
                    f"{today} is not a trading day of venue {venue.name!r}")
        log.info("%s %s: %s is not a trading day; skipped", pipeline.config.name, phase, today)
        return "skipped_holiday"
    detail = execute_phase(pipeline, Phase(phase), today, Path(out_root), SERVICE.stop, SERVICE.metrics)
    runs.record(pipeline.config.name, phase, None, "ran", detail)
    return "ran"


def execute_phase(pipeline: Any, phase: Phase, day: dt.date, out_root: Path, stop: threading.Event | None = None,
                  metrics: Any = None, clock: Any = None) -> str:
    """Run one phase of ``pipeline`` for ``day`` now; return a one-line summary.

    The intraday phase is the live loop (:mod:`jgod_core.realtime.live`) until the phase's
    ``end`` (the venue's zone) or ``stop``; ``clock`` (a ``LoopClock``) runs it on virtual time.
    Orders built during the phase ask the pipeline's venue.
    """
    with use_venue(venue_for(pipeline)):
        return _execute_phase(pipeline, phase, day, out_root, stop, metrics, clock)


def _execute_phase(pipeline: Any, phase: Phase, day: dt.date, out_root: Path, stop: threading.Event | None,
                   metrics: Any, clock: Any) -> str:
    out = out_root / pipeline.config.name / day.isoformat() / phase.value
    if phase is Phase.PRE_MARKET:
        from jgod_core.pipeline.runner import run_pipeline

        result = run_pipeline(pipeline, out=out, progress=False)
        return f"daily factors and weights written to {out} ({type(result).__name__})"
    if phase is Phase.INTRADAY:
        from jgod_core.realtime.session import IntradaySession, write_outputs

        end = dt.datetime.combine(day, dt.time.fromisoformat(pipeline.config.phases.intraday.end),
                                  zone(venue_for(pipeline).timezone))
        end_ns = int(end.timestamp()) * 1_000_000_000
        result = IntradaySession(pipeline, metrics).run_live(day, end_ns, stop, clock)
        write_outputs(result, out, day, pipeline)
        how = "stopped on request" if stop is not None and stop.is_set() else f"ended {end:%H:%M}"
        return (f"live loop {how}: {result.events} events, {result.decisions} decisions, {len(result.orders)} "
                f"orders, orders sha256 {result.orders_sha256}")
    intraday = out_root / pipeline.config.name / day.isoformat() / Phase.INTRADAY.value / "summary.json"
    out.mkdir(parents=True, exist_ok=True)
    if intraday.exists():
        (out / "intraday_summary.json").write_bytes(intraday.read_bytes())
        return f"archived {intraday}"
    return "no intraday output to archive today"


def build_scheduler(pipeline: Any, store_url: str, out_root: str = "runs/serve",
                    scheduler_factory: Callable[..., Any] = BackgroundScheduler,
                    executors: dict | None = None, func: Callable | str | None = None) -> Any:
    """A scheduler holding the pipeline's three phase jobs in the job store at ``store_url``, timed in
    the zone of the pipeline's venue."""
    runs = RunLog(store_url)
    timezone = venue_for(pipeline).timezone
    kwargs: dict[str, Any] = {"jobstores": {"default": SQLAlchemyJobStore(url=store_url)}, "timezone": timezone,
                              "job_defaults": {"coalesce": True, "max_instances": 1}}
    if executors is not None:
        kwargs["executors"] = executors
    scheduler = scheduler_factory(**kwargs)
    name = pipeline.config.name

    def on_event(event: JobExecutionEvent) -> None:
        _, _, phase = event.job_id.partition(":")
        if event.code == EVENT_JOB_MISSED:
            runs.record(name, phase, event.scheduled_run_time, "missed",
                        "missed by more than the misfire grace; not run")
            log.warning("%s: run of %s missed beyond its grace; skipped", event.job_id, event.scheduled_run_time)
        elif event.code == EVENT_JOB_ERROR:
            runs.record(name, phase, event.scheduled_run_time, "failed", repr(event.exception))

    scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)
    scheduler._jgod_pending = []  # jobs are added on start (the job store opens then)
    for phase in Phase:
        cfg = getattr(pipeline.config.phases, phase.value)
        hour, minute = job_start(cfg, phase)
        scheduler._jgod_pending.append(dict(
            func=func or f"{__name__}:run_phase", trigger=CronTrigger(day_of_week="mon-fri", hour=hour, minute=minute,
                                                                      timezone=timezone),
            args=(str(pipeline.path), phase.value, store_url, out_root), id=job_id(name, phase),
            name=f"{name} {phase.value}", misfire_grace_time=cfg.misfire_grace_seconds, coalesce=True,
            max_instances=1, replace_existing=False))
    return scheduler


def job_start(cfg: Any, phase: Phase) -> tuple[int, int]:
    """(hour, minute) the phase's job starts: its ``schedule``; the intraday job ``warmup_minutes``
    earlier, so feeds connect and the processor warms up before the first order at ``schedule``."""
    hour, minute = (int(x) for x in cfg.schedule.split(":"))
    if phase is Phase.INTRADAY:
        start = dt.datetime.combine(dt.date(2000, 1, 3), dt.time(hour, minute)) - dt.timedelta(minutes=cfg.warmup_minutes)
        if start.date() != dt.date(2000, 1, 3):
            raise JGodError(f"phases.intraday: schedule {cfg.schedule} − warmup {cfg.warmup_minutes} min is before 00:00")
        hour, minute = start.hour, start.minute
    return hour, minute


def add_jobs(scheduler: Any) -> None:
    """Add the phase jobs unless the persistent store already holds them (keeps their next run)."""
    for spec in scheduler._jgod_pending:
        if scheduler.get_job(spec["id"]) is None:
            scheduler.add_job(**spec)


def serve_forever(scheduler: Any, stop: threading.Event | None = None) -> None:
    """Start, then block until SIGTERM/SIGINT; shut down cleanly (a running intraday loop sees
    the same stop request, writes its outputs and returns; then the scheduler stops)."""
    stop = stop or SERVICE.stop

    def handle(signum, frame):  # noqa: ARG001
        log.info("signal %s: shutting down", signum)
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        add_jobs(scheduler)
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)
        for s, h in previous.items():
            signal.signal(s, h)


def next_runs(store_url: str) -> list[tuple[str, dt.datetime | None]]:
    """``(job id, next run time)`` of every job in the store, without starting a scheduler."""
    store = SQLAlchemyJobStore(url=store_url)
    store.start(None, "default")  # type: ignore[arg-type]
    try:
        return [(job.id, job.next_run_time) for job in store.get_all_jobs()]
    finally:
        store.shutdown()
