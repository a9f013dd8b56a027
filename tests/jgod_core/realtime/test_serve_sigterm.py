"""`jgod serve --once intraday` on the wall clock: SIGTERM ends the live loop cleanly with its outputs written."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

PIPELINE = Path("pipelines/tw_intraday.yaml")


def test_sigterm_stops_the_intraday_live_loop_and_writes_its_outputs(tmp_path):
    text = PIPELINE.read_text(encoding="utf-8")
    text = text.replace('end: "13:30"', 'end: "23:59"')  # the loop is running whenever the test runs
    text = text.replace("role: futures, stale_after_seconds: 90}", "role: futures, stale_after_seconds: 90, "
                                                                    "date: 2026-05-28}")
    assert "date: 2026-05-28" in text
    pipeline = tmp_path / "live.yaml"
    pipeline.write_text(text, encoding="utf-8")
    cmd = [sys.executable, "-c", "import sys; from jgod_core.cli import main; sys.exit(main(sys.argv[1:]))",
           "serve", str(pipeline), "--once", "intraday", "--store", f"sqlite:///{tmp_path / 'jobs.db'}",
           "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        for line in proc.stderr:  # wait until the feeds are connected
            if "btc_book: connected" in line or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "live loop stopped on request" in out.replace("\n", " ")
    summaries = list((tmp_path / "out").glob("tw_intraday/*/intraday/summary.json"))
    assert len(summaries) == 1 and json.loads(summaries[0].read_text())["pipeline"] == "tw_intraday"
