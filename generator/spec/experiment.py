"""The experiment definition: `experiments/<name>/experiment.yaml` as typed models.

Keys mirror the arguments of Katib's `KatibClient.tune()` and the fields of
`HuggingFaceModelParams`, `HuggingFaceDatasetParams`, `S3DatasetParams` and
`HuggingFaceTrainerParams`, so a notebook call ports line by line (docs/definition.md maps each).
Every model forbids unknown keys. Checks that need more than one field, or the installed
libraries, live in `generator.checks.definition`.

`ExperimentSpec.to_document` is the definition's canonical serialisation: the rendered objects
carry it to the results Job, and `ExperimentSpec.from_document` reads it back to the same spec.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from generator.spec.base import (
    DEFAULT_PARALLEL_TRIAL_COUNT,
    DNS1123_LABEL,
    DNS1123_SUBDOMAIN,
    ENV_NAME,
    MAX_NAME_LENGTH,
    FiniteFloat,
    PositiveNumber,
    Scalar,
    SecretRef,
    Strict,
    positive_quantity,
)
from generator.spec.objectives import ObjectiveSpec, WarmStart
from generator.spec.search import TunableValue, is_search
from generator.spec.sources import DatasetParams, ModelParams
from suggestion.history import Objective
from suggestion.space import Parameter


class TrainerParams(Strict):
    """`HuggingFaceTrainerParams`, plus the data columns and adapter saving."""

    training_parameters: dict[str, TunableValue] = Field(default_factory=dict)
    lora_config: dict[str, TunableValue] = Field(default_factory=dict)
    columns: dict[str, StrictStr] = Field(default_factory=dict)
    max_length: StrictInt | None = Field(default=None, ge=8)
    save_adapter: StrictBool = False
    # Train exactly as training_parameters say, TrainingArguments' defaults for the rest: the
    # trainer then fills in none of its own choices (trainer.speed.CHOICES).
    exact_training_arguments: StrictBool = False


# --- the rest of tune() --------------------------------------------------------------------


class Resources(Strict):
    """`resources_per_trial`: the seed's dict, or Katib's TrainerResources flattened."""

    gpu: StrictInt | StrictStr = 0
    cpu: StrictInt | FiniteFloat | StrictStr = 1
    memory: StrictStr = "4Gi"
    num_workers: StrictInt = Field(default=1, ge=1)
    num_procs_per_worker: StrictInt | None = Field(default=None, ge=1)

    @field_validator("gpu")
    @classmethod
    def _gpu_count(cls, v: int | str) -> int:
        if isinstance(v, str):
            if not v.isdigit():
                raise ValueError(f"gpu must be a whole number of GPUs, got '{v}'")
            v = int(v)
        if v < 0:
            raise ValueError("gpu must not be negative")
        return v

    @field_validator("cpu")
    @classmethod
    def _cpu_quantity(cls, v: int | float | str) -> str:
        text = str(v)
        if not positive_quantity(text):
            raise ValueError(
                f"cpu must be a positive Kubernetes quantity such as 4 or 500m, got {v!r}"
            )
        return text

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, v: str) -> str:
        if not positive_quantity(v):
            raise ValueError(
                f"memory must be a positive Kubernetes quantity such as 10G or 16Gi, got '{v}'"
            )
        return v

    @property
    def gpus(self) -> int:
        return int(self.gpu)

    @property
    def procs_per_worker(self) -> int:
        return self.num_procs_per_worker or max(1, self.gpus)


class StorageConfig(Strict):
    """`storage_config`: the experiment's volume, created by Argo CD from Git.

    `existing_claim` mounts a claim that already exists instead, so experiments with the same
    inputs share one content-addressed download cache.
    """

    existing_claim: StrictStr | None = None

    size: StrictStr = "10Gi"
    storage_class: StrictStr | None = None
    # Parallel trials may run on different nodes, and every trial writes its output here.
    access_modes: list[
        Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
    ] = Field(default_factory=lambda: ["ReadWriteMany"], min_length=1)

    @field_validator("size")
    @classmethod
    def _size_quantity(cls, v: str) -> str:
        if not positive_quantity(v):
            raise ValueError(f"size must be a positive Kubernetes quantity such as 50Gi, got '{v}'")
        return v

    @field_validator("storage_class")
    @classmethod
    def _storage_class_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS1123_SUBDOMAIN.match(v):
            raise ValueError(f"'{v}' is not a valid StorageClass name (lowercase DNS-1123)")
        return v

    @field_validator("existing_claim")
    @classmethod
    def _claim_name(cls, v: str | None) -> str | None:
        if v is not None and not DNS1123_SUBDOMAIN.match(v):
            raise ValueError(
                f"'{v}' is not a valid PersistentVolumeClaim name (lowercase DNS-1123)"
            )
        return v

    @model_validator(mode="after")
    def _one_volume(self) -> StorageConfig:
        if self.existing_claim is not None:
            given = sorted(self.model_fields_set & {"size", "storage_class", "access_modes"})
            if given:
                raise ValueError(
                    f"{', '.join(given)} describe a new claim; with existing_claim the claim "
                    "already exists: remove them"
                )
        return self


class EarlyStopping(Strict):
    algorithm_name: Literal["medianstop"]
    algorithm_settings: dict[str, StrictInt | StrictStr] = Field(default_factory=dict)


class MetricsCollector(Strict):
    kind: Literal["StdOut"] = "StdOut"


class Budget(Strict):
    """`budget`: what the experiment may spend before no further trial starts.

    `gpu_hours` counts each trial's wall time times the GPUs it requested on all its nodes;
    `trial_hours` counts wall time alone, for experiments that request no GPU. Exactly one.
    """

    gpu_hours: PositiveNumber | None = None
    trial_hours: PositiveNumber | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> Budget:
        if (self.gpu_hours is None) == (self.trial_hours is None):
            raise ValueError("set exactly one of gpu_hours and trial_hours")
        return self

    @property
    def unit(self) -> str:
        return "gpu_hours" if self.gpu_hours is not None else "trial_hours"

    @property
    def limit(self) -> float:
        return float(self.gpu_hours if self.gpu_hours is not None else self.trial_hours)


class Images(Strict):
    """Per-experiment overrides of `images.yaml`."""

    trainer: StrictStr | None = None
    storage_init: StrictStr | None = None
    results: StrictStr | None = None


# Arguments of tune() that only make sense for its function-based mode, with what to do instead.
UNSUPPORTED_TUNE_ARGUMENTS = {
    "objective": "a Python objective function cannot be reviewed in Git; the trainer is the "
    "trial program here",
    "parameters": "search spaces go inside trainer_parameters.training_parameters or "
    "trainer_parameters.lora_config as {search: ...}",
    "base_image": "images are pinned in images.yaml; override per experiment with images.trainer",
    "packages_to_install": "build them into the trainer image (images/trainer.Dockerfile)",
    "pip_index_urls": "build packages into the trainer image (images/trainer.Dockerfile)",
}


class ExperimentSpec(Strict):
    """One experiment definition."""

    name: StrictStr
    cluster: StrictStr
    namespace: StrictStr = "kubeflow"
    model_provider_parameters: ModelParams
    dataset_provider_parameters: DatasetParams
    trainer_parameters: TrainerParams = Field(default_factory=TrainerParams)
    objective_metric_name: StrictStr | None = None
    additional_metric_names: list[StrictStr] = Field(default_factory=list)
    objective_type: Literal["minimize", "maximize"] = "maximize"
    objective_goal: FiniteFloat | StrictInt | None = None
    # Several objectives in place of objective_metric_name and objective_type; the first is the
    # Experiment's objective, the others its additional metrics (docs/definition.md).
    objectives: list[ObjectiveSpec] | None = Field(default=None, min_length=2)
    warm_start: WarmStart | None = None
    # Which report of a metric counts: min, max or latest. Katib would give every metric the
    # objective's direction; here other metrics default to their latest value, since a metric
    # such as accuracy under a minimised loss would otherwise keep its worst value.
    metric_strategies: dict[StrictStr, Literal["min", "max", "latest"]] = Field(
        default_factory=dict
    )
    algorithm_name: StrictStr = "random"
    algorithm_settings: dict[str, Scalar] = Field(default_factory=dict)
    early_stopping: EarlyStopping | None = None
    max_trial_count: StrictInt | None = None
    parallel_trial_count: StrictInt | None = None
    max_failed_trial_count: StrictInt | None = None
    resources_per_trial: Resources = Field(default_factory=Resources)
    env_per_trial: dict[str, StrictStr | SecretRef] = Field(default_factory=dict)
    retain_trials: StrictBool = False
    storage_config: StorageConfig = Field(default_factory=StorageConfig)
    metrics_collector_config: MetricsCollector = Field(default_factory=MetricsCollector)
    trial_active_deadline_seconds: StrictInt | None = Field(default=None, ge=1)
    resume_policy: Literal["Never", "LongRunning", "FromVolume"] = "Never"
    images: Images = Field(default_factory=Images)
    budget: Budget | None = None

    @model_validator(mode="after")
    def _one_objective_form(self) -> ExperimentSpec:
        if self.objectives is None and self.objective_metric_name is None:
            raise ValueError(
                "objective_metric_name is required (or objectives: [{metric, type}, ...] to "
                "optimise several)"
            )
        both = {"objective_metric_name", "objective_type"} & self.model_fields_set
        if self.objectives is not None and both:
            raise ValueError(
                f"objectives replaces {' and '.join(sorted(both))}: set one form, not both"
            )
        return self

    @field_validator("name")
    @classmethod
    def _dns_label(cls, v: str) -> str:
        if len(v) > MAX_NAME_LENGTH:
            raise ValueError(
                f"'{v}' is {len(v)} characters; Katib allows at most {MAX_NAME_LENGTH}"
            )
        if not DNS1123_LABEL.match(v) or not v[0].isalpha():
            raise ValueError(
                f"'{v}' is not a valid experiment name: use lowercase letters, digits and '-', "
                f"starting with a letter, e.g. '{suggest_name(v)}'"
            )
        return v

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not DNS1123_LABEL.match(v) or len(v) > 63:
            raise ValueError(f"'{v}' is not a valid namespace (lowercase DNS-1123 label)")
        return v

    @field_validator("env_per_trial")
    @classmethod
    def _env_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name in v:
            if not ENV_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid environment variable name")
        return v

    # Convenience views used by checks and rendering.

    def search_spaces(self) -> dict[str, tuple[str, Any]]:
        """Tuned names -> (section, search space), in definition order."""
        tuned: dict[str, tuple[str, Any]] = {}
        trainer = self.trainer_parameters
        for section, values in (
            ("training", trainer.training_parameters),
            ("lora", trainer.lora_config),
        ):
            for key, value in values.items():
                if is_search(value):
                    tuned.setdefault(key, (section, value))
        return tuned

    def search_parameters(self) -> list[Parameter]:
        """The tuned values as search parameters, in definition order."""
        return [space.parameter(name) for name, (_, space) in self.search_spaces().items()]

    @property
    def all_objectives(self) -> list[Objective]:
        """The objectives, first the Experiment's own: one unless `objectives` lists several."""
        if self.objectives is not None:
            return [Objective(o.metric, o.type) for o in self.objectives]
        return [Objective(self.objective_metric_name, self.objective_type)]

    @property
    def primary_metric(self) -> str:
        return self.all_objectives[0].metric

    @property
    def primary_type(self) -> str:
        return self.all_objectives[0].type

    @property
    def katib_additional_metrics(self) -> list[str]:
        """What the Experiment lists besides its objective: the other objectives, then the
        additional metrics."""
        others = [o.metric for o in self.all_objectives[1:]]
        return others + [m for m in self.additional_metric_names if m not in others]

    @property
    def effective_metric_strategies(self) -> dict[str, str]:
        strategies = {
            o.metric: "min" if o.type == "minimize" else "max" for o in self.all_objectives
        }
        for name in self.additional_metric_names:
            strategies.setdefault(name, "latest")
        return {**strategies, **self.metric_strategies}

    @property
    def effective_parallel_trial_count(self) -> int:
        return self.parallel_trial_count or DEFAULT_PARALLEL_TRIAL_COUNT

    def has_eval_split(self) -> bool:
        return self.dataset_provider_parameters.eval_split is not None

    def to_document(self) -> dict[str, Any]:
        """What the definition says, typed, in its own key order, as JSON-ready data that
        `from_document` reads back to an equal spec."""
        # Unset keys stay out: a value given explicitly can mean more than its default does
        # (storage_config.existing_claim refuses an explicit size).
        return self.model_dump(mode="json", exclude_unset=True)

    @classmethod
    def from_document(cls, document: Any) -> ExperimentSpec:
        return cls.model_validate(document)


def suggest_name(bad: str) -> str:
    """A valid experiment name close to `bad` (Llama-3.2-fine-tune -> llama-3-2-fine-tune)."""
    name = re.sub(r"[^a-z0-9-]+", "-", bad.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = "exp-" + name
    return name[:MAX_NAME_LENGTH].rstrip("-")
