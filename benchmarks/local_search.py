"""Trial-seconds to come within 1% of the best objective, over several seeds: which search wins.

Runs the demo experiment (experiments/minilm-imdb-demo) with `hpo tune --local` once per arm and
seed, changing only the search. The arms:
- `random`: Katib's random search, no early stopping (the baseline);
- `tpe`: the project's `hpo-multivariate-tpe` with its defaults;
- `gp`: the project's `hpo-gp` (a Gaussian process) with its defaults;
- `tpe + medianstop`, `gp + medianstop`: the same with Katib's median stopping
  (`min_trials_required: 3, start_step: 3`);
- `warm tpe`, `warm gp`: the same warm-started from an earlier run: the random arm of another
  seed (`warm_start.from`), as when an experiment is run again after a small change.
Every other setting (data, model, parallelism) is the demo's, its search and early stopping
aside. For each seed, the
target is 1% from the best objective any arm found with that seed; an arm's score is the sum of
wall-clock seconds of its trials, in the order they completed, until one reaches the target.
The table gives each arm's median over the seeds and the spread (lowest-highest), in trials and
in trial-seconds (which also vary with the machine's load); an arm that never reached the
target with a seed counts as slower than any that did. The objective is
minimised (the demo's eval_loss).

    python -m local_runner.demo_inputs
    python benchmarks/local_search.py [--seeds 1 2 3 4 5] [--trials 12]

Each trial's objective is read from the run's results.yaml, through the file's one model
(`generator.spec.results_file`), as a user would read it; its seconds and completion order,
which the file does not keep, from the run's Optuna study.

Each run's trials are kept in .hpo/bench/runs.json, keyed by the arm's definition (and, for a
warm arm, by the run it starts from), so an interrupted benchmark continues where it stopped and
a changed arm alone runs again; a random arm's kept results.yaml that the model no longer
accepts is run again too. Clear runs.json after changing the search code or its libraries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.files import write_atomically  # noqa: E402
from generator.loading.yamlload import load_located  # noqa: E402  (YAML 1.2, as hpo reads it)
from generator.spec.results_file import (  # noqa: E402
    RESULTS_FILE,
    ResultsFile,
    ResultsFileError,
)
from local_runner import study as keys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "experiments" / "minilm-imdb-demo" / "experiment.yaml"
WORKDIR = ROOT / ".hpo" / "bench"
RUNS = WORKDIR / "runs.json"
WITHIN = 0.01
TPE = "hpo-multivariate-tpe"
GP = "hpo-gp"
# Median stopping as it does best here (offline, on the random arms: start_step 2 stops trials
# on noise and missed the target with 2 seeds of 5).
MEDIANSTOP = {
    "algorithm_name": "medianstop",
    "algorithm_settings": {"min_trials_required": 3, "start_step": 3},
}


def demo(trials: int) -> dict:
    definition = load_located(DEMO.read_text(encoding="utf-8"), str(DEMO)).data
    for section, key in (
        ("model_provider_parameters", "model_uri"),
        ("dataset_provider_parameters", "repo_id"),
    ):
        path = ROOT / definition[section][key]
        definition[section][key] = str(path.resolve())  # read from the scratch copy
    definition["max_trial_count"] = trials
    # The scoring below counts down to a lowest objective.
    assert definition["objective_type"] == "minimize", "the benchmark scores a minimised objective"
    return definition


def arms(seed: int, warm_from: int, trials: int) -> dict[str, dict]:
    """The definitions of one seed's arms, by label."""
    base = demo(trials)
    warm = {"from": [f"experiments/{_name('random', warm_from)}"]}
    settings = {"random_state": seed}
    by_label = {"random": {**base, "algorithm_name": "random", "algorithm_settings": settings}}
    for label, algorithm in (("tpe", TPE), ("gp", GP)):
        search = {**base, "algorithm_name": algorithm, "algorithm_settings": settings}
        by_label[label] = search
        by_label[label + " + medianstop"] = {**search, "early_stopping": MEDIANSTOP}
        by_label["warm " + label] = {**search, "warm_start": warm}
    return by_label


def _name(label: str, seed: int) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
    return f"bench-{slug}-s{seed}"


def scratch_repository() -> Path:
    """A copy of what `hpo` needs, so the benchmark's definitions stay out of experiments/."""
    root = Path(tempfile.mkdtemp(prefix="hpo-bench-"))
    for item in ("templates", "images.yaml", "argocd/clusters.yaml"):
        target = root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (ROOT / item).is_dir() else shutil.copy
        copy(ROOT / item, target)
    return root


def run_arm(root: Path, name: str, definition: dict) -> list[list[float | None]]:
    """[trial seconds, objective or None] for every trial, in completion order."""
    folder = root / "experiments" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "experiment.yaml").write_text(yaml.safe_dump({**definition, "name": name}))
    command = [sys.executable, "-m", "generator.cli", "tune", "--local", f"experiments/{name}"]
    subprocess.run(
        [*command, "--workdir", str(WORKDIR)],
        cwd=root,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    objective = objectives_by_trial(folder / RESULTS_FILE, definition["objective_metric_name"])
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{WORKDIR / name / 'study.db'}")
    done = [
        t for t in study.trials if t.datetime_complete and not t.user_attrs.get(keys.INTERRUPTED)
    ]
    done.sort(key=lambda t: t.datetime_complete)
    return [
        [float(t.user_attrs.get(keys.SECONDS, 0.0)), objective.get(t.user_attrs.get(keys.NAME))]
        for t in done
    ]


def objectives_by_trial(path: Path, metric: str) -> dict[str, float | None]:
    """Each trial's objective as the run's results.yaml records it (None: not reported)."""
    return {t.name: t.metrics.get(metric) for t in ResultsFile.read(path).trials}


def usable(kept: Path) -> bool:
    """A kept results.yaml that warm start can still read: the model accepts it."""
    try:
        ResultsFile.read(kept)
    except ResultsFileError:
        return False
    return True


def reach(trials, target: float) -> tuple[float, int] | None:
    """(trial-seconds, trials) spent, in completion order, until one reached `target`."""
    spent = 0.0
    for count, (seconds, value) in enumerate(trials, start=1):
        spent += seconds
        if value is not None and value <= target:
            return spent, count
    return None


def _key(name: str, definition: dict, started_from: str | None = None) -> str:
    """The run's cache key: its definition and, for a warm arm, the key of the run it starts
    from. The search code and library versions are not in it: clear runs.json after changing
    them."""
    recorded = {"name": name, **definition}
    if started_from is not None:
        recorded["warm_start_run"] = started_from
    text = json.dumps(recorded, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_all(seeds: list[int], trials: int) -> dict[int, dict[str, list]]:
    """Every arm of every seed, reusing the runs recorded under the same key."""
    runs = json.loads(RUNS.read_text()) if RUNS.is_file() else {}
    root = scratch_repository()
    outcomes: dict[int, dict[str, list]] = {seed: {} for seed in seeds}
    random_keys: dict[int, str] = {}

    def run_once(key: str, name: str, definition: dict) -> None:
        if key not in runs:
            runs[key] = {"trials": run_arm(root, name, definition)}
            write_atomically(RUNS, json.dumps(runs, indent=1))

    try:
        # The warm arms read the random arms' results.yaml, so those run first, for every seed;
        # each one's results.yaml is kept beside its study for later benchmarks.
        for seed in seeds:
            name, definition = _name("random", seed), arms(seed, seed, trials)["random"]
            key = random_keys[seed] = _key(name, definition)
            kept = WORKDIR / name / RESULTS_FILE
            written = root / "experiments" / name / RESULTS_FILE
            if not usable(kept):
                runs.pop(key, None)
            run_once(key, name, definition)
            if written.is_file():
                shutil.copy(written, kept)
            else:
                written.parent.mkdir(parents=True)
                shutil.copy(kept, written)
            outcomes[seed]["random"] = runs[key]["trials"]
        for seed in seeds:
            warm_from = seeds[(seeds.index(seed) + 1) % len(seeds)]
            for label, definition in arms(seed, warm_from, trials).items():
                if label == "random":
                    continue
                name = _name(label, seed)
                started_from = random_keys[warm_from] if "warm_start" in definition else None
                key = _key(name, definition, started_from)
                run_once(key, name, definition)
                outcomes[seed][label] = runs[key]["trials"]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return outcomes


def table(outcomes: dict[int, dict[str, list]], arms_compared: list[str] | None = None) -> str:
    """The Markdown table of `arms_compared` (all by default), the target of each seed set by
    the best objective those arms found with it."""
    labels = arms_compared or list(next(iter(outcomes.values())))
    reached: dict[str, list[tuple[float, int] | None]] = {label: [] for label in labels}
    bests: dict[str, list[float]] = {label: [] for label in labels}
    for by_arm in outcomes.values():
        values = [v for label in labels for _, v in by_arm[label] if v is not None]
        target = min(values) * (1 + WITHIN)
        for label in labels:
            trials = by_arm[label]
            reached[label].append(reach(trials, target))
            bests[label].append(min((v for _, v in trials if v is not None), default=math.inf))
    lines = [
        "| search | reached | trials to target | trial-seconds to target | best eval_loss |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label in labels:
        outcomes_of_label = reached[label]
        done = sum(r is not None for r in outcomes_of_label)
        trials = _median_and_spread([r and r[1] for r in outcomes_of_label], "{:.0f}")
        seconds = _median_and_spread([r and r[0] for r in outcomes_of_label], "{:.0f}")
        best = _median_and_spread(bests[label], "{:.4f}")
        lines.append(
            f"| {label} | {done}/{len(outcomes_of_label)} | {trials} | {seconds} | {best} |"
        )
    return "\n".join(lines)


def _median_and_spread(values: list[float | None], shape: str) -> str:
    """'median (lowest-highest)'. None (target not reached) ranks after every number, so the
    median is 'not reached' when half the seeds or more never reached it; with an even number of
    seeds the median is the upper one."""
    ranked = sorted(values, key=lambda v: (v is None, v or 0.0))
    middle = ranked[len(ranked) // 2]
    numbers = [v for v in ranked if v is not None]
    median = shape.format(middle) if middle is not None else "not reached"
    spread = f"{shape.format(numbers[0])}-{shape.format(numbers[-1])}" if numbers else "-"
    return f"{median} ({spread})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument(
        "--trials", type=int, default=12, help="trials per arm (4 random startup trials, 8 guided)"
    )
    args = parser.parse_args(argv)
    if len(args.seeds) < 2:
        parser.error("give at least two seeds: the warm arm starts from another seed's run")
    outcomes = run_all(args.seeds, args.trials)
    labels = list(next(iter(outcomes.values())))
    cold = [label for label in labels if not label.startswith("warm ")]
    print(
        f"{len(args.seeds)} seeds, {args.trials} trials per arm; the target of each seed is 1% "
        "from the best eval_loss the arms compared found with it.\n"
    )
    print("Every arm:\n\n" + table(outcomes) + "\n")
    print("Starting cold (no warm start):\n\n" + table(outcomes, cold))
    return 0


if __name__ == "__main__":
    sys.exit(main())
