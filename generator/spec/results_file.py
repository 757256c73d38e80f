"""`experiments/<name>/results.yaml`: the one model of the file, for its writer and every reader.

The results Job and `hpo tune --local` write it (`results.model.results_file` builds this model
from a result; `ResultsFile.to_yaml` writes it), and everything that reads it reads it here:
`KatibClient.get_optimal_hyperparameters`, warm start (`hpo check`, `hpo render`), the search
benchmark, and report.md, which is rendered from this model so that it says what the file
holds. It lives in the generator because warm start reads it while the
generator renders, and the generator imports nothing above it.

Values keep their YAML 1.2 types (16 stays an int, `true` a bool); the writer quotes every
string that a YAML 1.1 or 1.2 reader would take for something else. Optional sections are
written only when the definition uses them (`objectives` and `pareto_front`, `budget`,
`warm_start`, and `rungs` with each trial's `config`, `rung` and `trained_steps` under
hpo-asha), and a best trial's `observation` only when Katib kept one. A file that does not fit is
refused with its path, line and field (`ResultsFileError`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_serializer,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from generator.errors import ExitCode, HpoError, Problem
from generator.loading.yamlload import (
    LocatedDocument,
    YamlProblems,
    load_located,
    resolve_plain_scalar,
)
from generator.spec.base import Strict
from generator.spec.objectives import ObjectiveSpec, WarmStart
from generator.validate import dotted

RESULTS_FILE = "results.yaml"

TrialStatus = Literal[
    "Succeeded", "Failed", "EarlyStopped", "Killed", "MetricsUnavailable", "Running"
]
# The order statuses are listed in `counts`; also the set of statuses a trial can have.
TRIAL_STATUSES: tuple[str, ...] = get_args(TrialStatus)
ExperimentStatus = Literal["Succeeded", "Failed"]
EXPERIMENT_STATUSES: tuple[str, ...] = get_args(ExperimentStatus)
# Katib records observations only for these; a Failed or Killed trial's early loss is not a result.
BEST_TRIAL_STATUSES = ("Succeeded", "EarlyStopped")


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, not {_kind(value)}")
    return value


def _scalar(value: Any) -> Any:
    if not isinstance(value, bool | int | float | str):
        raise ValueError(f"must be a boolean, number or string, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return {bool: "a boolean", str: "a string", list: "a list", dict: "a mapping"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


# Checked before pydantic's own validation, so a value keeps exactly the type it was read with:
# no union coerces 16 into 16.0 or "3" into 3.
Number = Annotated[int | float, BeforeValidator(_number)]  # a metric may be nan or inf
ParameterValue = Annotated[bool | int | float | str, BeforeValidator(_scalar)]


Count = Annotated[int, Field(strict=True, ge=0)]


def _optional(**options: Any) -> Any:
    """A key written only when it has a value."""
    return Field(default=None, exclude_if=lambda value: value is None, **options)


class ObjectiveRecord(ObjectiveSpec):
    """The experiment's objective (the first, with several) and the goal that may end it."""

    goal: Number | None


class Extremes(Strict):
    """Every report of one metric by the best trial, as Katib's observation keeps it."""

    latest: Number
    min: Number
    max: Number


# A trial's place in hpo-asha's rungs; written together, and only under hpo-asha.
RUNG_FIELDS = ("config", "rung", "trained_steps")


class Placed(Strict):
    """A trial, with its place in the rungs under hpo-asha: the configuration it trains (ids in
    creation order), the rung it trained to (0 is the lowest), and the optimizer steps it ran
    itself (a resumed trial counts only its own; null when it never reported them)."""

    name: StrictStr
    config: Count | None = None
    rung: Count | None = None
    trained_steps: Count | None = None

    @model_validator(mode="after")
    def _together(self) -> Placed:
        if (self.config is None) != (self.rung is None):
            raise ValueError("config and rung are written together (hpo-asha), or neither")
        if self.rung is None and self.trained_steps is not None:
            raise ValueError("trained_steps is written with a rung (hpo-asha)")
        return self

    @model_serializer(mode="wrap")
    def _rung_fields_under_hpo_asha(self, write: Any) -> dict[str, Any]:
        # Every trial of hpo-asha has all three, trained_steps null when it reported none; the
        # files of other algorithms keep their former bytes.
        data = write(self)
        if self.rung is None:
            for key in RUNG_FIELDS:
                data.pop(key, None)
        return data


class BestTrial(Placed):
    parameters: dict[str, ParameterValue]
    metrics: dict[str, Number]  # each metric's value by its strategy
    observation: dict[str, Extremes] | None = _optional()


class Trial(Placed):
    status: TrialStatus
    parameters: dict[str, ParameterValue]
    metrics: dict[str, Number]


class ParetoPoint(Strict):
    name: StrictStr
    metrics: dict[str, Number]  # the objectives' values


class ModelSource(Strict):
    uri: StrictStr | None
    revision: StrictStr | None  # as the definition states it
    # What the download resolved it to: a Hub commit, `etags:sha256:…` (S3), `sha256:…` (local
    # files), and when (RFC 3339, UTC); `unread` says why that is unknown.
    resolved: StrictStr | None
    fetched_at: StrictStr | None
    unread: StrictStr | None = _optional()


class DatasetSource(Strict):
    uri: StrictStr | None
    revision: StrictStr | None
    split: StrictStr | None
    resolved: StrictStr | None  # as for the model
    fetched_at: StrictStr | None
    unread: StrictStr | None = _optional()


class Images(Strict):
    trainer: StrictStr | None
    storage_init: StrictStr | None


class Provenance(Strict):
    definition_sha256: StrictStr  # of the experiment.yaml that ran
    model: ModelSource
    dataset: DatasetSource
    images: Images
    experiment_uid: StrictStr | None  # the Katib Experiment's; None when run locally


class BudgetRecord(Strict):
    unit: Literal["gpu_hours", "trial_hours"]
    limit: Number
    spent: Number
    ended_experiment: StrictBool  # the budget, not the trial counts or the goal, ended it


class WarmStartRecord(WarmStart):
    """The experiments a warm-started search was seeded from, and how many trials it took."""

    trials: Annotated[int, Field(strict=True, ge=0)]


class RungsRecord(Strict):
    """hpo-asha: its rungs, and what its trials trained against full runs of the same
    configurations."""

    count: Annotated[int, Field(strict=True, ge=2)]  # rungs, the full run included
    reduction_factor: Annotated[int, Field(strict=True, ge=2)]
    configurations: Count  # distinct configurations tried
    trained_steps: Count  # every trial's own steps, added up
    # One full run's steps: what a configuration that reached the top rung trained over its
    # rungs. None when none did, or when they differ (the search changes the step count).
    full_run_steps: Annotated[int, Field(strict=True, ge=1)] | None

    @property
    def top(self) -> int:
        return self.count - 1

    @property
    def full_runs_steps(self) -> int | None:
        """What full runs of every configuration tried would have trained; None if unknown."""
        if self.full_run_steps is None:
            return None
        return self.configurations * self.full_run_steps


class ResultsFile(Strict):
    """results.yaml; the fields in the order they are written."""

    experiment: StrictStr
    status: ExperimentStatus
    reason: StrictStr | None  # why Katib ended the Experiment, when it says
    objective: ObjectiveRecord
    best_trial: BestTrial | None  # None while no trial reported the objective
    objectives: list[ObjectiveSpec] | None = _optional()  # several objectives: all of them
    pareto_front: list[ParetoPoint] | None = _optional()  # the trials none beats on all
    trials: list[Trial]  # best first
    counts: dict[TrialStatus, Count]
    provenance: Provenance
    budget: BudgetRecord | None = _optional()
    warm_start: WarmStartRecord | None = _optional()
    rungs: RungsRecord | None = _optional()  # hpo-asha

    @model_validator(mode="after")
    def _placed_under_hpo_asha(self) -> ResultsFile:
        """Trials have a rung exactly when the file has `rungs`, and it is one of them; each
        problem is reported at its trial."""
        placed = [(("best_trial",), self.best_trial)] if self.best_trial else []
        placed += [(("trials", i), t) for i, t in enumerate(self.trials)]
        problems = []
        for loc, trial in placed:
            if self.rungs is None and trial.rung is not None:
                problems.append((loc + ("rung",), "is written only with a rungs section"))
            elif self.rungs is not None and trial.rung is None:
                problems.append((loc, "needs a config and a rung (hpo-asha)"))
            elif self.rungs is not None and trial.rung > self.rungs.top:
                problems.append(
                    (loc + ("rung",), f"must be one of the rungs, 0 to {self.rungs.top}")
                )
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(type=PydanticCustomError("rung", message), loc=loc, input=None)
                    for loc, message in problems
                ],
            )
        return self

    @property
    def all_objectives(self) -> list[ObjectiveSpec]:
        """Every objective, the first being `objective`."""
        return list(self.objectives or [self.objective])

    @property
    def full_run_trials(self) -> list[Trial]:
        """The trials that trained a full run, whose values compare with any other full run's:
        every trial, or under hpo-asha those of the top rung (what warm start may take)."""
        if self.rungs is None:
            return list(self.trials)
        return [t for t in self.trials if t.rung == self.rungs.top]

    def to_document(self) -> dict[str, Any]:
        """The file as plain data, keys in the written order."""
        return self.model_dump(mode="python", by_alias=True)

    def to_yaml(self) -> str:
        return yaml.dump(
            self.to_document(),
            Dumper=_Dumper,
            sort_keys=False,  # the documented order, the fields'
            default_flow_style=False,
            allow_unicode=True,
            width=4096,  # never fold a long reason or image name across lines
        )

    @classmethod
    def from_yaml(cls, text: str, where: str) -> ResultsFile:
        """The file's text as the model; ResultsFileError, located, when it does not fit."""
        try:
            doc = load_located(text, where)
        except YamlProblems as e:
            raise ResultsFileError(e.problems) from None
        if not isinstance(doc.data, dict):
            raise ResultsFileError([doc.problem((), "a results file is a YAML mapping")])
        try:
            return cls.model_validate(doc.data)
        except ValidationError as e:
            raise ResultsFileError([_located(error, doc) for error in e.errors()]) from None

    @classmethod
    def read(cls, path: Path, where: str | None = None) -> ResultsFile:
        """The file at `path` (named `where` in errors)."""
        shown = where or str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ResultsFileError([Problem(shown, 1, 1, f"cannot read: {e}")]) from e
        return cls.from_yaml(text, shown)


class ResultsFileError(HpoError):
    """A results.yaml that cannot be read or does not fit the model; `problems` says where."""

    exit_code = ExitCode.PROBLEMS

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first.path}:{first.line}:{first.col}: {first.message}{more}")


def _located(error: Any, doc: LocatedDocument) -> Problem:
    """One validation error at its line, named by its field."""
    raw = tuple(error["loc"])
    loc = _in_document(raw, doc.data)
    if error["type"] == "extra_forbidden":
        parent = dotted(loc[:-1])
        message = f"unknown key '{raw[-1]}'"
        return doc.problem(loc, f"{parent}: {message}" if parent else message, at_key=True)
    if error["type"] == "missing":
        where = dotted(loc) or "results"
        return doc.problem(loc, f"{where}: missing required key '{raw[-1]}'", at_key=True)
    message = error["msg"].removeprefix("Value error, ")
    return doc.problem(loc, f"{dotted(loc)}: {message}" if loc else message)


def _in_document(loc: tuple, data: Any) -> tuple:
    """The part of a pydantic location that is in the document (not a dict key's `[key]`)."""
    kept: list = []
    for part in loc:
        if (
            isinstance(data, dict)
            and part in data
            or (isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data))
        ):
            kept.append(part)
            data = data[part]
    return tuple(kept)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe writer, quoting the strings that readers would take for other types."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML resolves by YAML 1.1 and writes `1e-4` or `0o17` plain, which YAML 1.2 (our reader)
    # reads as numbers; PyYAML's own check already quotes what YAML 1.1 would misread.
    if not isinstance(resolve_plain_scalar(value), str):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _string)
