"""Read an experiment's best hyperparameters from `experiments/<name>/results.yaml` in Git.

The results job commits that file on `hpo-results/<name>` and a PR merges it: Git, not the
cluster, is where results are kept (a deleted Experiment takes its trials with it).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.errors import ClientError
from generator.project import EXPERIMENTS_DIR
from generator.yamlload import YamlProblems, load_located

RESULTS_FILE = "results.yaml"


@dataclass(frozen=True)
class OptimalHyperparameters:
    """The best trial of a finished experiment, typed as its search spaces define."""

    experiment: str
    status: str
    trial_name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    objective: dict[str, Any] = field(default_factory=dict)


def _read_text(root: Path, relative: str, ref: str | None, name: str) -> str:
    if ref is None:
        path = root / relative
        if not path.is_file():
            raise ClientError(
                f"{relative} does not exist yet: the results job pushes it to branch "
                f"hpo-results/{name} and opens a pull request; merge it, or read it before "
                f"the merge with ref='origin/hpo-results/{name}'"
            )
        return path.read_text(encoding="utf-8")
    shown = subprocess.run(
        ["git", "show", f"{ref}:{relative}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        reason = (shown.stderr.strip().splitlines() or ["git show failed"])[-1]
        raise ClientError(f"cannot read {relative} at {ref}: {reason}")
    return shown.stdout


def read_optimal_hyperparameters(
    root: Path, name: str, ref: str | None = None
) -> OptimalHyperparameters | None:
    relative = f"{EXPERIMENTS_DIR}/{name}/{RESULTS_FILE}"
    shown = relative if ref is None else f"{ref}:{relative}"
    text = _read_text(root, relative, ref, name)
    try:
        data = load_located(text, shown).data
    except YamlProblems as e:
        raise ClientError(f"{shown} is not valid YAML: {e.problems[0]}") from None
    if not isinstance(data, dict) or "best_trial" not in data:
        raise ClientError(f"{shown} has no best_trial: not a results file")
    best = data["best_trial"]
    if best is None:
        return None
    try:
        return OptimalHyperparameters(
            experiment=data.get("experiment", name),
            status=data.get("status", "Unknown"),
            trial_name=best["name"],
            parameters=dict(best.get("parameters") or {}),
            metrics=dict(best.get("metrics") or {}),
            objective=dict(data.get("objective") or {}),
        )
    except (KeyError, TypeError, AttributeError):
        raise ClientError(f"{shown}: best_trial needs name, parameters and metrics") from None
