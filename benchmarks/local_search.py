"""Trial-seconds to come within 1% of the best objective: random search vs TPE + median stopping.

Runs the demo experiment (experiments/minilm-imdb-demo) twice with `hpo tune --local`, changing
only the search: random search without early stopping, and TPE with Katib's medianstop. Every
other setting (data, model, trial budget, parallelism, random_state) is the demo's. For each arm
it adds up the wall-clock seconds of the trials in the order they completed until one trial's
objective is within 1% of the best value either arm found, and prints a Markdown table.

    python -m local_runner.demo_inputs
    python benchmarks/local_search.py [--trials 12] [--seed 42] [--tpe multivariate-tpe]

Katib's `tpe` is hyperopt's, which samples its first 20 trials at random; with a budget of a few
trials it would only measure median stopping, so the default TPE arm is `multivariate-tpe` with
4 random startup trials (`--tpe tpe` measures Katib's own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "experiments" / "minilm-imdb-demo" / "experiment.yaml"
WORKDIR = ROOT / ".hpo" / "bench"
WITHIN = 0.01


def arm_definitions(trials: int, seed: int, tpe: str) -> dict[str, dict]:
    demo = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    for section, key in (
        ("model_provider_parameters", "model_uri"),
        ("dataset_provider_parameters", "repo_id"),
    ):
        demo[section][key] = str((ROOT / demo[section][key]).resolve())  # read from a copy
    demo["max_trial_count"] = trials
    median = demo.pop("early_stopping", None) or {
        "algorithm_name": "medianstop",
        "algorithm_settings": {"min_trials_required": 3, "start_step": 2},
    }
    random_arm = {**demo, "name": "bench-random", "algorithm_name": "random"}
    random_arm["algorithm_settings"] = {"random_state": seed}
    tpe_settings = {"random_state": seed}
    if tpe == "multivariate-tpe":
        tpe_settings["n_startup_trials"] = 4
    tpe_arm = {**demo, "name": "bench-tpe-median", "algorithm_name": tpe}
    tpe_arm["algorithm_settings"] = tpe_settings
    tpe_arm["early_stopping"] = median
    return {"random": random_arm, f"{tpe} + medianstop": tpe_arm}


def scratch_repository() -> Path:
    """A copy of what `hpo` needs, so the benchmark's definitions stay out of experiments/."""
    root = Path(tempfile.mkdtemp(prefix="hpo-bench-"))
    for item in ("templates", "images.yaml", "argocd/clusters.yaml"):
        target = root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, target)
    return root


def run_arm(root: Path, definition: dict) -> list[tuple[float, float | None]]:
    """(trial seconds, objective or None) for every trial, in completion order."""
    name = definition["name"]
    folder = root / "experiments" / name
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(yaml.safe_dump(definition, sort_keys=False))
    command = [sys.executable, "-m", "generator.cli", "tune", "--local", f"experiments/{name}"]
    subprocess.run(
        [*command, "--workdir", str(WORKDIR)],
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    storage = f"sqlite:///{WORKDIR / name / 'study.db'}"
    study = optuna.load_study(study_name=name, storage=storage)
    metric = definition["objective_metric_name"]
    done = [t for t in study.trials if t.datetime_complete and not t.user_attrs.get("interrupted")]
    done.sort(key=lambda t: t.datetime_complete)
    return [
        (float(t.user_attrs.get("seconds", 0.0)), t.user_attrs.get("metrics", {}).get(metric))
        for t in done
    ]


def seconds_to_reach(trials: list[tuple[float, float | None]], target: float, minimize: bool):
    spent = 0.0
    for seconds, value in trials:
        spent += seconds
        if value is not None and (value <= target if minimize else value >= target):
            return spent
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="trials per arm (default 12)")
    parser.add_argument("--seed", type=int, default=42, help="random_state of both arms")
    parser.add_argument("--tpe", default="multivariate-tpe", choices=["tpe", "multivariate-tpe"])
    args = parser.parse_args(argv)
    arms = arm_definitions(args.trials, args.seed, args.tpe)
    minimize = next(iter(arms.values()))["objective_type"] == "minimize"
    root = scratch_repository()
    try:
        outcomes = {label: run_arm(root, definition) for label, definition in arms.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    values = [v for trials in outcomes.values() for _, v in trials if v is not None]
    best = min(values) if minimize else max(values)
    target = best * (1 + WITHIN) if minimize else best * (1 - WITHIN)
    print(f"\nbest objective of both arms: {best:.4f}; within 1%: {target:.4f}\n")
    print("| search | trials | trial-seconds in all | best | trial-seconds to within 1% |")
    print("| --- | --- | --- | --- | --- |")
    for label, trials in outcomes.items():
        found = [v for _, v in trials if v is not None]
        arm_best = (min(found) if minimize else max(found)) if found else float("nan")
        reached = seconds_to_reach(trials, target, minimize)
        shown = f"{reached:.0f}" if reached is not None else "not reached"
        total = sum(s for s, _ in trials)
        print(f"| {label} | {len(trials)} | {total:.0f} | {arm_best:.4f} | {shown} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
