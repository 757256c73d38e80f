"""The algorithm settings the generator writes for the project's suggestion service.

Katib's Experiment has one objective and no place for earlier trials, so two settings carry them
to `suggestion/` (which reads them with `suggestion.history`):
- `objectives`, when the definition lists several;
- `warm_start_trials`, the trials of the experiments `warm_start.from` names, read from their
  merged `results.yaml` through the file's one model (`generator.spec.results_file`). Only
  Succeeded trials that reported every objective and whose parameters are points of this
  experiment's search space are kept; the rest are counted by reason and said. An earlier
  experiment with no results, with a results file that does not fit the model, or with another
  objective, is an error.

The trials are read when the experiment is rendered and written into its Experiment, which Katib
then cannot change: once created, the earlier results files must stay as they are (`hpo check
--base` reports a rendered Experiment that changed).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import Problem
from generator.loading.yamlload import LocatedDocument
from generator.spec import ExperimentSpec
from generator.spec.results_file import RESULTS_FILE, ResultsFile, ResultsFileError, Trial
from suggestion.history import (
    COMPLETE,
    HistoryError,
    Observation,
    encode_objectives,
    encode_warm_start,
)
from suggestion.settings import OBJECTIVES, WARM_START_TRIALS
from suggestion.space import internal, katib_text


@dataclass
class Generated:
    settings: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    note: str | None = None  # what the warm start took, for hpo check's output


def generated_settings(spec: ExperimentSpec, root: Path, doc: LocatedDocument) -> Generated:
    generated = Generated()
    objectives = spec.all_objectives
    if len(objectives) > 1:
        generated.settings[OBJECTIVES] = encode_objectives(objectives)
    if spec.warm_start is None:
        return generated
    parameters = spec.search_parameters()
    taken: list[Observation] = []
    dropped: Counter[str] = Counter()
    for index, folder in enumerate(spec.warm_start.from_):
        where = ("warm_start", "from", index)
        read = _results(root, folder)
        if isinstance(read, str):
            generated.problems.append(doc.problem(where, f"warm_start.from[{index}]: {read}"))
            continue
        mismatch = _objective_mismatch(read, spec)
        if mismatch:
            message = f"warm_start.from[{index}]: {folder} {mismatch}: warm start needs the same"
            generated.problems.append(doc.problem(where, f"{message} objective"))
            continue
        # Under hpo-asha only the top rung's values compare with a full run's.
        full_runs = read.full_run_trials
        if len(full_runs) < len(read.trials):
            dropped["below hpo-asha's top rung"] += len(read.trials) - len(full_runs)
        for trial in full_runs:
            observation, why = _observation(trial, parameters, objectives)
            if observation is None:
                dropped[why] += 1
            else:
                taken.append(observation)
    if any(p.is_error for p in generated.problems):
        return generated
    try:
        generated.settings[WARM_START_TRIALS] = encode_warm_start(
            [p.name for p in parameters], [o.metric for o in objectives], taken
        )
    except HistoryError as e:
        generated.problems.append(doc.problem(("warm_start",), f"warm_start: {e}"))
        return generated
    sources = ", ".join(spec.warm_start.from_)
    generated.note = f"{len(taken)} trials from {sources}"
    if dropped:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(dropped.items()))
        generated.note += f"; {sum(dropped.values())} dropped ({reasons})"
        generated.problems.append(
            doc.problem(("warm_start",), f"warm_start: {generated.note}", severity="warning")
        )
    return generated


def _results(root: Path, folder: str) -> ResultsFile | str:
    """results.yaml of an experiment folder, or why it cannot be used."""
    path = root / folder.rstrip("/") / RESULTS_FILE
    if not (root / folder).is_dir():
        return f"{folder} does not exist (name an experiment folder, e.g. experiments/<name>)"
    if not path.is_file():
        return (
            f"{folder} has no {RESULTS_FILE}: its experiment has not finished, or its results "
            "pull request is not merged yet"
        )
    try:
        return ResultsFile.read(path, f"{folder.rstrip('/')}/{RESULTS_FILE}")
    except ResultsFileError as e:
        return f"not a results file: {e}"


def _objective_mismatch(results: ResultsFile, spec: ExperimentSpec) -> str | None:
    ours = [(o.metric, o.type) for o in spec.all_objectives]
    theirs = [(o.metric, o.type) for o in results.all_objectives]
    if theirs == ours:
        return None
    said = ", ".join(f"{m} ({t})" for m, t in theirs)
    return f"optimised {said}; this experiment optimises " + ", ".join(
        f"{m} ({t})" for m, t in ours
    )


def _observation(trial: Trial, parameters, objectives) -> tuple[Observation | None, str]:
    """The trial as a finished observation, or None and why it is left out."""
    if trial.status != "Succeeded":
        return None, "not Succeeded"
    values = {}
    for objective in objectives:
        value = trial.metrics.get(objective.metric)
        if value is None or not math.isfinite(value):
            return None, f"without {objective.metric}"
        values[objective.metric] = float(value)
    given = trial.parameters
    assignments = {}
    for p in parameters:
        if p.name not in given:
            return None, f"without {p.name}"
        value = given[p.name]
        text = katib_text(value)
        try:
            internal(p, text)
        except ValueError:
            return None, f"with {p.name} outside this search space"
        assignments[p.name] = text
    return Observation(assignments, COMPLETE, values), ""
