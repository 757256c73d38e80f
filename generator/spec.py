"""The experiment definition: `experiments/<name>/experiment.yaml` as typed models.

Keys mirror the arguments of Katib's `KatibClient.tune()` and the fields of
`HuggingFaceModelParams`, `HuggingFaceDatasetParams`, `S3DatasetParams` and
`HuggingFaceTrainerParams`, so a notebook call ports line by line (docs/definition.md maps each).
Every model forbids unknown keys. Checks that need more than one field, or the installed
libraries, live in `generator.checks`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from trainer.catalog import TASKS

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 40  # Katib's webhook limit for Experiment names
DEFAULT_PARALLEL_TRIAL_COUNT = 3  # what Katib's webhook fills in when the field is absent

TransformerType = Literal[
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForImageClassification",
]
assert set(TransformerType.__args__) == set(TASKS)  # one list of tasks, shared with the trainer

# NaN and infinity are never meaningful here, and would reach JSON and Katib as invalid text.
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Scalar = StrictBool | StrictInt | FiniteFloat | StrictStr


def _positive_quantity(text: str) -> bool:
    return bool(QUANTITY.match(text)) and float(re.sub(r"[a-zA-Z]+$", "", text)) > 0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretRef(Strict):
    """A key of a Kubernetes Secret in the experiment's namespace."""

    secret: str
    key: str

    @field_validator("secret")
    @classmethod
    def _secret_name(cls, v: str) -> str:
        if not DNS1123_SUBDOMAIN.match(v) or len(v) > 253:
            raise ValueError(f"'{v}' is not a valid Secret name (lowercase DNS-1123 subdomain)")
        return v

    @field_validator("key")
    @classmethod
    def _secret_key(cls, v: str) -> str:
        if not SECRET_KEY.match(v):
            raise ValueError(f"'{v}' is not a valid Secret key (letters, digits, '-', '_', '.')")
        return v


def _refuse_literal_credential(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError(
            "literal_credential",
            "a literal credential is not allowed here: it would be committed to Git and written "
            "into the manifests; store it in a Secret (kubectl create secret generic NAME "
            "--from-literal=KEY=...) and reference it as {secret: NAME, key: KEY}",
        )
    return value


# A token or key: only ever a Secret reference, never the value itself.
Credential = Annotated[SecretRef, BeforeValidator(_refuse_literal_credential)]


# --- search spaces -------------------------------------------------------------------------

Distribution = Literal["uniform", "logUniform", "normal", "logNormal"]


class DoubleSearch(Strict):
    search: Literal["double"]
    min: FiniteFloat | StrictInt
    max: FiniteFloat | StrictInt
    step: FiniteFloat | StrictInt | None = None
    distribution: Distribution = "uniform"


class IntSearch(Strict):
    search: Literal["int"]
    min: StrictInt
    max: StrictInt
    step: StrictInt | None = None
    distribution: Distribution = "uniform"


class CategoricalSearch(Strict):
    search: Literal["categorical"]
    values: list[Scalar] = Field(min_length=1)


class DiscreteSearch(Strict):
    search: Literal["discrete"]
    values: list[StrictInt | FiniteFloat] = Field(min_length=1)


SearchSpace = Annotated[
    DoubleSearch | IntSearch | CategoricalSearch | DiscreteSearch,
    Field(discriminator="search"),
]


def _search_or_fixed(value: Any) -> str:
    # Tag names must not collide with definition keys: error locations are mapped back to YAML.
    return "search-space" if isinstance(value, dict) and "search" in value else "fixed-value"


# A TrainingArguments or LoraConfig value: fixed, or a search space Katib samples.
TunableValue = Annotated[
    Annotated[SearchSpace, Tag("search-space")] | Annotated[Any, Tag("fixed-value")],
    Discriminator(_search_or_fixed),
]


def is_search(value: Any) -> bool:
    return isinstance(value, DoubleSearch | IntSearch | CategoricalSearch | DiscreteSearch)


# --- providers -----------------------------------------------------------------------------


class ModelParams(Strict):
    """`HuggingFaceModelParams`, plus revision pinning and S3 model locations."""

    model_uri: StrictStr = Field(min_length=1)
    transformer_type: TransformerType
    access_token: Credential | None = None
    num_labels: StrictInt | None = Field(default=None, ge=1)
    revision: StrictStr | None = None
    # Only for s3:// model URIs.
    endpoint_url: StrictStr | None = None
    region_name: StrictStr | None = None
    access_key: Credential | None = None
    secret_key: Credential | None = None


class HuggingFaceDatasetParams(Strict):
    """`HuggingFaceDatasetParams`; `repo_id` may also be a local path (./data, /data)."""

    repo_id: StrictStr = Field(min_length=1)
    access_token: Credential | None = None
    split: StrictStr = "train"
    revision: StrictStr | None = None
    eval_split: StrictStr | None = None


class S3DatasetParams(Strict):
    """`S3DatasetParams`: one object (CSV, JSON/JSONL, Parquet) or a prefix."""

    endpoint_url: StrictStr = Field(min_length=1)
    bucket_name: StrictStr = Field(min_length=1)
    file_key: StrictStr = Field(min_length=1)
    region_name: StrictStr | None = None
    access_key: Credential | None = None
    secret_key: Credential | None = None
    split: StrictStr = "train"
    eval_split: StrictStr | None = None


def _dataset_kind(value: Any) -> str:
    return "s3" if isinstance(value, dict) and "bucket_name" in value else "hf"


DatasetParams = Annotated[
    Annotated[HuggingFaceDatasetParams, Tag("hf")] | Annotated[S3DatasetParams, Tag("s3")],
    Discriminator(_dataset_kind),
]


class TrainerParams(Strict):
    """`HuggingFaceTrainerParams`, plus the data columns and adapter saving."""

    training_parameters: dict[str, TunableValue] = Field(default_factory=dict)
    lora_config: dict[str, TunableValue] = Field(default_factory=dict)
    columns: dict[str, StrictStr] = Field(default_factory=dict)
    max_length: StrictInt | None = Field(default=None, ge=8)
    save_adapter: StrictBool = False


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
        if not _positive_quantity(text):
            raise ValueError(
                f"cpu must be a positive Kubernetes quantity such as 4 or 500m, got {v!r}"
            )
        return text

    @field_validator("memory")
    @classmethod
    def _memory_quantity(cls, v: str) -> str:
        if not _positive_quantity(v):
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
        if not _positive_quantity(v):
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
    objective_metric_name: StrictStr
    additional_metric_names: list[StrictStr] = Field(default_factory=list)
    objective_type: Literal["minimize", "maximize"] = "maximize"
    objective_goal: FiniteFloat | StrictInt | None = None
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

    @property
    def effective_metric_strategies(self) -> dict[str, str]:
        objective = "min" if self.objective_type == "minimize" else "max"
        strategies = {self.objective_metric_name: objective}
        strategies.update(dict.fromkeys(self.additional_metric_names, "latest"))
        return {**strategies, **self.metric_strategies}

    @property
    def effective_parallel_trial_count(self) -> int:
        return self.parallel_trial_count or DEFAULT_PARALLEL_TRIAL_COUNT

    def has_eval_split(self) -> bool:
        return self.dataset_provider_parameters.eval_split is not None


def suggest_name(bad: str) -> str:
    """A valid experiment name close to `bad` (Llama-3.2-fine-tune -> llama-3-2-fine-tune)."""
    name = re.sub(r"[^a-z0-9-]+", "-", bad.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = "exp-" + name
    return name[:MAX_NAME_LENGTH].rstrip("-")
