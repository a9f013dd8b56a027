"""The three-phase scheduler under a controllable clock: misfire grace, skips recorded, holidays skipped."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import apscheduler.executors.base as aps_executors
import apscheduler.schedulers.base as aps_base
import pytest
from apscheduler.executors.debug import DebugExecutor

from jgod_core.scheduling import scheduler as sched
from jgod_core.venue import default_venue

TPE = ZoneInfo("Asia/Taipei")
CALLS: list[tuple] = []


def record_call(pipeline_path, phase, store_url, out_root):
    CALLS.append((phase,))


class _Clock:
    """Replaces ``datetime`` inside APScheduler's scheduler module: ``now()`` returns ``self.t``."""

    t = dt.datetime(2026, 5, 28, 8, 0, tzinfo=TPE)

    class _DT(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return _Clock.t.astimezone(tz) if tz else _Clock.t


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(aps_base, "datetime", _Clock._DT)
    monkeypatch.setattr(aps_executors, "datetime", _Clock._DT)
    CALLS.clear()
    return _Clock


PIPELINE = """
version: 1
name: sched_test
phases:
  pre_market: {schedule: "08:30", misfire_grace_seconds: 60}
  intraday: {schedule: "09:00", warmup_minutes: 15}
"""


def _scheduler(pipeline, url):
    return sched.build_scheduler(pipeline, url, executors={"default": DebugExecutor()},
                                 func=f"{__name__}:record_call")


def _start(pipeline, url):
    s = _scheduler(pipeline, url)
    s.start(paused=True)
    sched.add_jobs(s)
    return s


def test_restart_30s_after_job_time_runs_it_once(clock, tmp_path, pipeline_from_yaml):
    pipeline = pipeline_from_yaml(PIPELINE)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    clock.t = dt.datetime(2026, 5, 28, 8, 0, tzinfo=TPE)  # a Thursday, an XTAI session
    first = _start(pipeline, url)
    first.shutdown(wait=False)  # the process dies before 08:30
    clock.t = dt.datetime(2026, 5, 28, 8, 30, 30, tzinfo=TPE)
    second = _start(pipeline, url)
    second._process_jobs()
    second._process_jobs()
    second.shutdown(wait=False)
    assert CALLS == [("pre_market",)]
    runs = sched.RunLog(url).rows()
    assert not any(r["status"] == "missed" for r in runs)


def test_restart_after_grace_skips_the_run_and_records_the_skip(clock, tmp_path, pipeline_from_yaml):
    pipeline = pipeline_from_yaml(PIPELINE)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    clock.t = dt.datetime(2026, 5, 28, 8, 0, tzinfo=TPE)
    _start(pipeline, url).shutdown(wait=False)
    clock.t = dt.datetime(2026, 5, 28, 8, 32, 0, tzinfo=TPE)  # 120 s late, grace is 60 s
    second = _start(pipeline, url)
    second._process_jobs()
    second.shutdown(wait=False)
    assert CALLS == []
    missed = [r for r in sched.RunLog(url).rows() if r["status"] == "missed" and r["phase"] == "pre_market"]
    assert len(missed) == 1 and missed[0]["scheduled"] == dt.datetime(2026, 5, 28, 8, 30)


def test_jobs_have_explicit_grace_single_instance_and_coalesce(clock, tmp_path, pipeline_from_yaml):
    pipeline = pipeline_from_yaml(PIPELINE)
    s = _start(pipeline, f"sqlite:///{tmp_path / 'jobs.db'}")
    jobs = {j.id: j for j in s.get_jobs()}
    s.shutdown(wait=False)
    job = jobs["sched_test:pre_market"]
    assert job.misfire_grace_time == 60 and job.max_instances == 1 and job.coalesce
    assert jobs["sched_test:post_market"].misfire_grace_time == 300  # the phase default
    assert str(job.trigger.timezone) == "Asia/Taipei"


def test_phase_on_a_holiday_is_skipped_and_recorded(tmp_path, monkeypatch):
    # 2026-06-19 (Friday) is the Dragon Boat Festival: no XTAI session.
    assert not default_venue().is_trading_day(dt.date(2026, 6, 19))
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    monkeypatch.setattr(sched, "execute_phase", lambda *a: pytest.fail("a holiday must not run the phase"))

    class _Now(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 6, 19, 0, 30, tzinfo=dt.timezone.utc)

    monkeypatch.setattr(sched.dt, "datetime", _Now)
    status = sched.run_phase("pipelines/tw_intraday.yaml", "pre_market", url, str(tmp_path))
    assert status == "skipped_holiday"
    assert sched.RunLog(url).rows()[0]["status"] == "skipped_holiday"


def test_next_runs_are_read_from_the_persistent_store(clock, tmp_path, pipeline_from_yaml):
    pipeline = pipeline_from_yaml(PIPELINE)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    clock.t = dt.datetime(2026, 5, 28, 8, 0, tzinfo=TPE)
    _start(pipeline, url).shutdown(wait=False)
    runs = dict(sched.next_runs(url))
    assert runs["sched_test:pre_market"] == dt.datetime(2026, 5, 28, 8, 30, tzinfo=TPE)
    assert runs["sched_test:intraday"] == dt.datetime(2026, 5, 28, 8, 45, tzinfo=TPE)  # 09:00 − 15 min warm-up


WARMUP_PIPELINE = """
version: 1
name: sched_test
phases:
  intraday: {schedule: "09:00", warmup_minutes: 30, misfire_grace_seconds: 60}
"""


def test_intraday_job_starts_warmup_minutes_before_its_schedule(clock, tmp_path, pipeline_from_yaml):
    pipeline = pipeline_from_yaml(WARMUP_PIPELINE)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    clock.t = dt.datetime(2026, 5, 28, 8, 0, tzinfo=TPE)
    s = _start(pipeline, url)
    assert s.get_job("sched_test:intraday").next_run_time == dt.datetime(2026, 5, 28, 8, 30, tzinfo=TPE)
    clock.t = dt.datetime(2026, 5, 28, 8, 29, 59, tzinfo=TPE)
    s._process_jobs()
    assert ("intraday",) not in CALLS
    clock.t = dt.datetime(2026, 5, 28, 8, 30, 1, tzinfo=TPE)
    s._process_jobs()
    s.shutdown(wait=False)
    assert CALLS.count(("intraday",)) == 1


def test_status_shows_the_kill_switch_state_left_by_halt_and_resume(tmp_path, monkeypatch, capsys):
    from jgod_core.cli import main

    monkeypatch.setenv("JGOD_DB_URL", f"sqlite:///{tmp_path / 'jgod.sqlite'}")
    monkeypatch.setenv("COLUMNS", "250")
    jobs = f"sqlite:///{tmp_path / 'jobs.db'}"
    assert main(["halt", "--reason", "fire drill"]) == 0
    assert main(["status", "--store", jobs]) == 0
    out = capsys.readouterr().out
    assert "trading state: HALTED since" in out and "fire drill" in out
    assert "`jgod serve PIPELINE` schedules them" in out  # an empty job store says how to fill it
    assert main(["resume"]) == 0
    assert main(["status", "--store", jobs]) == 0
    assert "trading state: ACTIVE (resumed by operator)" in capsys.readouterr().out


def test_serve_rejects_a_misspelt_once_phase_before_loading_anything(tmp_path, capsys):
    from jgod_core.cli import main

    code = main(["serve", str(tmp_path / "not_written_yet.yaml"), "--once", "premarket",
                 "--store", f"sqlite:///{tmp_path / 'jobs.db'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--once takes pre_market, intraday or post_market, not 'premarket'" in err
    assert "cannot read file" not in err
