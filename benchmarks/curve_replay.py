"""Which search reaches the best configuration soonest: searches replayed on learning curves.

Training every trial of every seed (benchmarks/local_search.py) is slow and noisy. This replays
the searches instead against a recorded table (benchmarks/replay/table.py says its columns):
each configuration of a grid was trained once in full, so a search's trial can be looked up,
and time is simulated, with parallel workers. The arms: random search, hpo-tpe and hpo-gp, each
with no early stopping, with Katib's median stopping (the project's rule, as
benchmarks/local_search.py sets it), and as hpo-asha with that sampler (3 rungs, eta 3). The
searches see the grid as Katib discrete parameters (benchmarks/replay/simulate.py says how a
trial is run and scored).

For each task, arm and seed it reports the trial-seconds until a configuration trained in full
was within 1% of the table's best full run, and the regret at a budget of 10 full runs' worth
of trial-seconds (the size of a small LLM tuning experiment: the demo runs 12 trials). A run
stops once it has both, or at 48 full runs' worth (what training a 48-configuration grid once
costs).

    python benchmarks/curve_replay.py [--table benchmarks/data/learning_curves.csv] [--seeds 50]

It prints one Markdown table per task and writes every run to replay_results.csv beside the
table. The same table and seeds write the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.replay import runs, summary  # noqa: E402
from generator.files import write_atomically  # noqa: E402
from storage_init.exits import run_entry_point  # noqa: E402

TABLE = Path(__file__).resolve().parent / "data" / "learning_curves.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--seeds", type=int, default=50, help="seeds 0 .. N-1 per arm")
    parser.add_argument("--samplers", nargs="+", choices=runs.SAMPLERS, default=runs.SAMPLERS)
    parser.add_argument("--workers", type=int, default=2, help="trials running at once")
    parser.add_argument("--budget", type=float, default=10.0, help="in full runs, for regret")
    parser.add_argument("--limit", type=float, default=48.0, help="in full runs, per run")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, help="default: replay_results.csv beside the table")
    args = parser.parse_args(argv)
    compared = runs.arms(args.samplers)
    names, results = runs.run_all(
        args.table,
        compared,
        range(args.seeds),
        args.processes,
        workers=args.workers,
        budget=args.budget,
        limit=args.limit,
    )
    out = args.out or args.table.with_name("replay_results.csv")
    write_atomically(out, summary.csv_text(results))
    print(
        f"{args.seeds} seeds per arm, {args.workers} workers; target: 1% from each task's best "
        f"full run; regret at {args.budget:g} full runs' worth of trial-seconds.\n"
    )
    labels, bases = [a.label for a in compared], runs.bases(compared)
    for name in names:
        print(f"## {name}\n\n{summary.table(results, name, labels, bases)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(run_entry_point(main, prefix="curve_replay"))
