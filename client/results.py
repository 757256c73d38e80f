"""get_optimal_hyperparameters: the best trial, as Katib's V1beta1OptimalTrial, wherever it is.

Results reach the repository as experiments/<name>/results.yaml, first on the results pull
request's branch, then, merged, on the base branch; while the Experiment runs, Katib keeps its
current optimal trial in the Experiment's status. They are read in that order of authority: the
merged file (on origin's base branch, else in the working tree, where `hpo tune --local` writes
it), the open results pull request's branch, the cluster. The source that answered is logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.cluster import as_katib, katib_models
from client.errors import ClientError
from generator.loading.yamlload import YamlProblems, load_located
from suggestion.space import katib_text

log = logging.getLogger("client")

RESULTS_FILE = "results.yaml"


def _git_show(root: Path, revision: str, relative: str) -> str | None:
    from proposal.git import Git
    from results.errors import GitError

    here = Git(root, env={"GIT_TERMINAL_PROMPT": "0"})
    try:
        prefix = here.output("rev-parse", "--show-prefix")
    except GitError:
        return None  # not a git checkout: no revision to read
    shown = here.run("show", f"{revision}:{prefix}{relative}", check=False)
    return shown.stdout if shown.returncode == 0 else None


def _fetch(root: Path, branches: list[str]) -> None:
    """Bring origin's branches up to date where they exist; a missing one is no error."""
    from proposal.git import Git

    here = Git(root, env={"GIT_TERMINAL_PROMPT": "0"})
    for branch in branches:
        here.run(
            "fetch",
            "--quiet",
            "origin",
            f"+refs/heads/{branch}:refs/remotes/origin/{branch}",
            check=False,
        )


def optimal_trial_of(text: str, where: str) -> Any:
    """results.yaml's best trial as a V1beta1OptimalTrial; None when no trial reported."""
    _, models = katib_models()
    try:
        data = load_located(text, where).data
    except YamlProblems as e:
        raise ClientError(f"{where} is not valid YAML: {e.problems[0]}") from None
    if not isinstance(data, dict) or "best_trial" not in data:
        raise ClientError(f"{where} has no best_trial: not a results file")
    best = data["best_trial"]
    if best is None:
        return None
    try:
        parameters = best["parameters"]
        observed = best.get("observation") or {
            # Files written before observations were kept: the value by its strategy.
            name: {"latest": value, "min": value, "max": value}
            for name, value in best["metrics"].items()
        }
        return models.V1beta1OptimalTrial(
            best_trial_name=best["name"],
            parameter_assignments=[
                models.V1beta1ParameterAssignment(name=name, value=katib_text(parameters[name]))
                for name in sorted(parameters)
            ],
            observation=models.V1beta1Observation(
                metrics=[
                    models.V1beta1Metric(
                        name=name,
                        latest=katib_text(extremes["latest"]),
                        min=katib_text(extremes["min"]),
                        max=katib_text(extremes["max"]),
                    )
                    for name, extremes in sorted(observed.items())
                ]
            ),
        )
    except (KeyError, TypeError, AttributeError):
        raise ClientError(f"{where}: best_trial needs name, parameters and metrics") from None


def read_optimal_trial(
    root: Path, name: str, read_cluster: Callable[[], dict], ref: str | None = None
) -> Any:
    """The best trial from the first source that has results (see the module's order)."""
    relative = f"experiments/{name}/{RESULTS_FILE}"
    if ref is not None:  # a revision the caller chose: that alone
        text = _git_show(root, ref, relative)
        if text is None:
            raise ClientError(f"cannot read {relative} at {ref}")
        log.info("optimal hyperparameters of %s from %s:%s", name, ref, relative)
        return optimal_trial_of(text, f"{ref}:{relative}")
    base = os.environ.get("HPO_BASE_BRANCH") or "main"
    _fetch(root, [base, f"hpo-results/{name}"])
    for revision, source in (
        (f"origin/{base}", f"the merged {relative} (origin/{base})"),
        (None, f"{relative} in the working tree"),
        (f"origin/hpo-results/{name}", f"the results pull request's branch hpo-results/{name}"),
    ):
        path = root / relative
        text = (
            _git_show(root, revision, relative)
            if revision
            else (path.read_text(encoding="utf-8") if path.is_file() else None)
        )
        if text is not None:
            log.info("optimal hyperparameters of %s from %s", name, source)
            return optimal_trial_of(text, f"{revision}:{relative}" if revision else relative)
    optimal = ((read_cluster().get("status") or {}).get("currentOptimalTrial")) or {}
    if not optimal.get("bestTrialName") or not (optimal.get("observation") or {}).get("metrics"):
        log.info("no results for %s yet: no results file, and Katib has no optimal trial", name)
        return None
    log.info("optimal hyperparameters of %s from the Experiment's currentOptimalTrial", name)
    return as_katib(optimal, "V1beta1OptimalTrial")
