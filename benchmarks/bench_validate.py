"""`jgod validate` speed: where the time of checking the shipped pipelines goes.

Each figure is the best of ``--repeat`` fresh-interpreter runs, against a baseline measured in the
same run (``python -c pass``):

- ``python -c pass``: the interpreter alone (baseline);
- ``jgod --help``: CLI start-up (typer, rich; the kernel's public API is imported lazily);
- ``jgod validate pipelines/*.yaml``: start-up + loading every installed plugin + validation;
- same, built-in plugins blocked (``JGOD_PLUGINS_BLOCK=jgod``): start-up without plugin imports;

plus, in this process with the kernel already loaded, the validation alone (best of 20).

Run: ``python benchmarks/bench_validate.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_of(repeat: int, argv: list[str], env: dict[str, str] | None = None) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pipelines = sorted(glob.glob(str(ROOT / "pipelines" / "*.yaml")))
    cli = [sys.executable, "-m", "jgod_core.cli"]
    blocked = {**os.environ, "JGOD_PLUGINS_BLOCK": "jgod"}

    rows = [
        ("python -c pass (baseline)", best_of(args.repeat, [sys.executable, "-c", "pass"])),
        ("jgod --help", best_of(args.repeat, cli + ["--help"])),
        (f"jgod validate ({len(pipelines)} shipped pipelines)", best_of(args.repeat, cli + ["validate", *pipelines])),
        ("  same, built-in plugins blocked", best_of(args.repeat, cli + ["validate", *pipelines], blocked)),
    ]

    from jgod_core.config.validate import validate_file
    from jgod_core.plugin.manager import load_kernel

    started = time.perf_counter()
    kernel = load_kernel()
    rows.append(("load_kernel() in process (plugin imports)", time.perf_counter() - started))
    best = float("inf")
    for _ in range(20):
        started = time.perf_counter()
        for path in pipelines:
            validate_file(path, kernel)
        best = min(best, time.perf_counter() - started)
    rows.append(("validation alone, kernel loaded", best))

    baseline = rows[0][1]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds * 1000:8.1f} ms  {seconds / baseline:6.1f}x baseline")


if __name__ == "__main__":
    main()
