"""`python -m benchmarks.curves`: record the learning-curve table (docs/local-runner.md).

Runs every configuration of every task (benchmarks.curves.trials), a few at a time. Finished runs
are appended to .hpo/curves/partial.csv, so an interrupted recording continues where it stopped;
the table is written to benchmarks/data/learning_curves.csv in one atomic replace once every run
has ended.

    nice -n 5 python -m benchmarks.curves [--parallel 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks.curves.table import (  # noqa: E402
    append_partial,
    missing,
    read_rows,
    resumed,
    table_text,
)
from benchmarks.curves.tasks import TASKS, Task, grid, prepare_inputs  # noqa: E402
from benchmarks.curves.trials import Run, finish, plans, start  # noqa: E402
from generator.errors import run_entry_point  # noqa: E402
from generator.files import write_atomically  # noqa: E402
from local_runner.download import run_downloads  # noqa: E402
from local_runner.workspace import Workspace  # noqa: E402

WORKDIR = ROOT / ".hpo" / "curves"
TABLE = ROOT / "benchmarks" / "data" / "learning_curves.csv"
PARTIAL = WORKDIR / "partial.csv"


def record(tasks: list[Task], configs: list[int], parallel: int, threads: int) -> None:
    runs = resumed(read_rows(TABLE), read_rows(PARTIAL))
    prepare_inputs(WORKDIR)
    pending = []
    for task, plan in zip(tasks, plans(tasks, WORKDIR), strict=True):
        workspace = Workspace(ROOT, WORKDIR / "work", plan.name)
        todo = missing(task, configs, runs)
        if todo:
            run_downloads(plan.downloads, workspace, say)
        pending += [(task, plan, workspace, config) for config in todo]
    say(f"{len(pending)} runs to record, {parallel} at a time, {threads} thread(s) each")
    running: list[Run] = []
    began = time.monotonic()
    try:
        while pending or running:
            while pending and len(running) < parallel:
                running.append(start(*pending.pop(0), threads))
            for run in [run for run in running if run.process.poll() is not None]:
                running.remove(run)
                rows, line = finish(run)
                say(line)
                runs[(run.task.name, run.config)] = rows
                append_partial(PARTIAL, rows)
            time.sleep(0.2)
    finally:
        for run in running:
            run.process.stop()
    write_atomically(TABLE, table_text(runs))
    PARTIAL.unlink(missing_ok=True)
    shown = TABLE.relative_to(ROOT)
    say(f"wrote {shown}: {len(runs)} runs; this recording took {time.monotonic() - began:.0f}s")


def say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.curves", description=__doc__.splitlines()[0]
    )
    names = [task.name for task in TASKS]
    parser.add_argument("--tasks", nargs="+", choices=names, default=names)
    parser.add_argument("--configs", type=int, nargs="+", help="only these (default: all 48)")
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run (default 1)")
    args = parser.parse_args(argv)
    import torch

    say(f"torch {torch.__version__}, {os.cpu_count()} CPUs")
    tasks = [task for task in TASKS if task.name in args.tasks]
    record(tasks, args.configs or list(range(len(grid()))), args.parallel, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
