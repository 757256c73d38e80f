"""Checks of a well-formed definition that span fields, the installed libraries or the repository.

Each check appends located Problems; none stops the others, so one run reports everything.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from generator import algorithms
from generator.definition import LoadedDefinition
from generator.errors import Problem
from generator.hf_fields import dataclass_fields, library_available
from generator.repo_config import LOCAL_CLUSTER, RepoConfig, image_pin_problem
from generator.spec import (
    DEFAULT_PARALLEL_TRIAL_COUNT,
    CategoricalSearch,
    DiscreteSearch,
    DoubleSearch,
    ExperimentSpec,
    IntSearch,
    S3DatasetParams,
    is_search,
)
from generator.validate.katib_rules import SHELL_INERT
from generator.validate.pod_policy import SECRET_LOOKING_NAME
from trainer.catalog import TASKS, metric_names

HF_MODEL = re.compile(r"^hf://[\w.-]+(/[\w.-]+)?$")
HF_DATASET = re.compile(r"^(hf://)?[\w.-]+(/[\w.-]+)?$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")

# Fields the trainer owns: setting them in a definition would be silently overridden.
TRAINER_OWNED = {
    "training_parameters": {
        "output_dir": "the trainer writes each trial to /workspace/trials/<trial>",
        "logging_dir": "the trainer reports metrics on stdout for Katib",
        "hub_token": "trials do not push to the Hub",
        "push_to_hub": "trials do not push to the Hub; use save_adapter",
    },
    "lora_config": {
        "task_type": "the trainer derives it from model_provider_parameters.transformer_type",
        "peft_type": "this project tunes LoRA adapters",
        "base_model_name_or_path": "set from model_provider_parameters.model_uri",
        "revision": "set model_provider_parameters.revision instead",
        "inference_mode": "trials train the adapter",
    },
}
SECTION_CLASS = {"training_parameters": "TrainingArguments", "lora_config": "LoraConfig"}


def is_local_path(uri: str) -> bool:
    return uri.startswith(("/", "./", "../"))


def check_definition(loaded: LoadedDefinition, folder_name: str | None, repo: RepoConfig):
    """Every problem of a definition beyond its structure; folder_name is None for loose files.

    A structurally broken definition is checked through its salvaged spec; findings at or
    under a broken key are dropped, since they would describe the stand-in, not the text.
    """
    spec, doc = loaded.spec or loaded.salvaged, loaded.document
    if spec is None or doc is None:
        return []
    tainted = _tainted_keys(loaded.broken) if loaded.spec is None else set()
    problems: list[Problem] = []
    for loc, message, severity in _findings(spec, folder_name, repo):
        if loaded.spec is None and (severity != "error" or not loc or loc[0] in tainted):
            continue
        problems.append(doc.problem(loc, message, severity=severity))
    return problems


# Top-level keys whose checks read one another: when one is set aside as broken, what the others
# report about the stand-in definition is not about the text.
CHECKED_TOGETHER = (
    {
        "algorithm_name",
        "algorithm_settings",
        "max_trial_count",
        "parallel_trial_count",
        "max_failed_trial_count",
        "trainer_parameters",
        "early_stopping",
    },
    {
        "model_provider_parameters",
        "dataset_provider_parameters",
        "objective_metric_name",
        "additional_metric_names",
    },
    {"cluster", "resources_per_trial", "parallel_trial_count", "max_trial_count", "storage_config"},
)


def _tainted_keys(broken: tuple[tuple, ...]) -> set:
    tainted = {loc[0] for loc in broken if loc} | {"name"}  # a broken name has a stand-in
    for group in CHECKED_TOGETHER:
        if group & tainted:
            tainted |= group
    return tainted


Finding = tuple[tuple, str, str]


def _findings(spec: ExperimentSpec, folder_name: str | None, repo: RepoConfig) -> Iterator[Finding]:
    if folder_name is not None and spec.name != folder_name:
        yield ("name",), f"name '{spec.name}' must equal its folder name '{folder_name}'", "error"
    yield from _check_cluster(spec, repo)
    yield from _check_sources(spec)
    yield from _check_trainer_fields(spec)
    yield from _check_search_spaces(spec)
    yield from _check_objective(spec)
    yield from _check_counts(spec)
    yield from _check_algorithm(spec)
    yield from _check_resources(spec)
    yield from _check_env(spec)
    for role, reference in spec.images.model_dump(exclude_none=True).items():
        if (why := image_pin_problem(reference)) is not None:
            yield ("images", role), why, "error"


def _check_cluster(spec: ExperimentSpec, repo: RepoConfig) -> Iterator[Finding]:
    if spec.cluster == LOCAL_CLUSTER or not repo.clusters:
        return
    cluster = repo.clusters.get(spec.cluster)
    if cluster is None:
        close = difflib.get_close_matches(spec.cluster, list(repo.clusters), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        yield (
            ("cluster",),
            (
                f"cluster '{spec.cluster}' is not in argocd/clusters.yaml (known: "
                f"{', '.join(sorted(repo.clusters))}; use '{LOCAL_CLUSTER}' for hpo "
                f"tune --local only){hint}"
            ),
            "error",
        )
        return
    parallel = spec.effective_parallel_trial_count
    resources = spec.resources_per_trial
    demand = parallel * resources.gpus * resources.num_workers
    if spec.max_trial_count is None:
        yield (
            ("max_trial_count",),
            "set max_trial_count: without it Katib runs trials until the goal is met, and the "
            "GPU budget has no bound",
            "error",
        )
    if demand > cluster.gpu_quota:
        where = "parallel_trial_count" in spec.model_fields_set
        yield (
            ("parallel_trial_count",) if where else ("resources_per_trial", "gpu"),
            (
                f"{parallel} parallel trials x {resources.gpus * resources.num_workers} "
                f"GPUs = {demand} "
                f"GPUs, more than the {cluster.gpu_quota} GPUs cluster '{cluster.name}' allows"
            ),
            "error",
        )


def _check_sources(spec: ExperimentSpec) -> Iterator[Finding]:
    model = spec.model_provider_parameters
    uri = model.model_uri
    local_ok = spec.cluster == LOCAL_CLUSTER
    mloc = ("model_provider_parameters",)
    if is_local_path(uri):
        if not local_ok:
            yield (
                mloc + ("model_uri",),
                (
                    f"local path '{uri}' cannot be read by a cluster; use hf:// or s3://, or set "
                    f"cluster: {LOCAL_CLUSTER} to run only with hpo tune --local"
                ),
                "error",
            )
    elif uri.startswith("s3://"):
        if not S3_URI.match(uri):
            yield mloc + ("model_uri",), f"'{uri}' is not a valid s3://BUCKET/PREFIX URI", "error"
    elif not HF_MODEL.match(uri):
        hint = f"; did you mean 'hf://{uri}'?" if HF_DATASET.match(uri) else ""
        yield (
            mloc + ("model_uri",),
            (
                f"model_uri '{uri}' must be hf://ORG/NAME, s3://BUCKET/PREFIX or a local path "
                f"starting with /, ./ or ../{hint}"
            ),
            "error",
        )
    if uri.startswith("s3://"):
        yield from _key_pair(model, mloc)
    else:
        for key in ("endpoint_url", "region_name", "access_key", "secret_key"):
            if getattr(model, key) is not None:
                yield mloc + (key,), f"{key} applies only to s3:// model URIs", "error"
    if model.revision is not None and not uri.startswith("hf://"):
        yield mloc + ("revision",), "revision applies only to hf:// models", "error"
    elif uri.startswith("hf://") and not (model.revision and COMMIT.match(model.revision)):
        yield (
            mloc + ("revision",),
            ("model revision is not pinned to a commit: results may not be reproducible"),
            "warning",
        )
    task = TASKS[model.transformer_type]
    if task.needs_num_labels and model.num_labels is None:
        yield (
            mloc + ("transformer_type",),
            (
                "num_labels is not set: the trainer counts the classes in the train split "
                "(set it when that split may miss a class)"
            ),
            "warning",
        )
    if not task.needs_num_labels and model.num_labels is not None:
        yield (
            mloc + ("num_labels",),
            f"num_labels does not apply to {model.transformer_type}",
            "error",
        )

    dataset = spec.dataset_provider_parameters
    dloc = ("dataset_provider_parameters",)
    if isinstance(dataset, S3DatasetParams):
        if not dataset.endpoint_url.startswith(("https://", "http://")):
            yield (
                dloc + ("endpoint_url",),
                "endpoint_url must start with https:// or http://",
                "error",
            )
        if dataset.file_key.startswith("/"):
            yield (
                dloc + ("file_key",),
                "file_key is a key inside the bucket: no leading '/'",
                "error",
            )
        yield from _key_pair(dataset, dloc)
    elif is_local_path(dataset.repo_id):
        if not local_ok:
            yield (
                dloc + ("repo_id",),
                (
                    f"local path '{dataset.repo_id}' cannot be read by a cluster; use a Hub "
                    f"dataset "
                    f"or S3, or set cluster: {LOCAL_CLUSTER}"
                ),
                "error",
            )
    elif not HF_DATASET.match(dataset.repo_id):
        yield (
            dloc + ("repo_id",),
            (
                f"repo_id '{dataset.repo_id}' must be a Hub dataset (NAME or ORG/NAME) "
                f"or a local path "
                "starting with /, ./ or ../"
            ),
            "error",
        )
    for key in ("split", "eval_split"):
        split = getattr(dataset, key)
        if split is not None and not re.match(r"^[\w.-]+(\[[-\d%:]*\])?$", split):
            yield (
                dloc + (key,),
                (f"'{split}' is not a split expression such as train, train[:1000] or test[:10%]"),
                "error",
            )
    if dataset.eval_split is not None and dataset.eval_split == dataset.split:
        yield dloc + ("eval_split",), "eval_split must differ from split (held-out data)", "error"


def _key_pair(location, loc: tuple) -> Iterator[Finding]:
    if (location.access_key is None) != (location.secret_key is None):
        yield loc, "access_key and secret_key go together: set both or neither", "error"


def _check_trainer_fields(spec: ExperimentSpec) -> Iterator[Finding]:
    trainer = spec.trainer_parameters
    task = TASKS[spec.model_provider_parameters.transformer_type]
    for role, column in trainer.columns.items():
        if not SHELL_INERT.match(column):
            yield (
                ("trainer_parameters", "columns", role),
                (
                    f"column name '{column}' must use only letters, digits and _.,:/+=@%- "
                    "(Katib runs the trial command through a shell); rename the column"
                ),
                "error",
            )
        if role not in task.columns:
            close = difflib.get_close_matches(role, list(task.columns), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            yield (
                ("trainer_parameters", "columns", role),
                (
                    f"'{role}' is not a column role of "
                    f"{spec.model_provider_parameters.transformer_type} "
                    f"(roles: {', '.join(task.columns)}){hint}"
                ),
                "error",
            )
    for section, class_name in SECTION_CLASS.items():
        values = getattr(trainer, section)
        if not library_available(class_name):
            if values:
                library = "transformers" if class_name == "TrainingArguments" else "peft"
                yield (
                    ("trainer_parameters", section),
                    f"{library} is not installed: {section} names and types were not checked "
                    "(pip install '.[ml]')",
                    "warning",
                )
            continue
        fields = dataclass_fields(class_name)
        for key, value in values.items():
            loc = ("trainer_parameters", section, key)
            if key in TRAINER_OWNED[section]:
                yield loc, f"{key} is set by the trainer: {TRAINER_OWNED[section][key]}", "error"
                continue
            info = fields.get(key)
            if info is None or key.startswith("_"):
                close = difflib.get_close_matches(
                    key, [f for f in fields if not f.startswith("_")], n=1
                )
                hint = f"; did you mean '{close[0]}'?" if close else ""
                yield loc, f"'{key}' is not a field of {class_name}{hint}", "error"
                continue
            yield from _check_value_type(loc, key, value, info)
    training = trainer.training_parameters
    if training.get("fp16") is True and training.get("bf16") is True:
        yield (
            ("trainer_parameters", "training_parameters", "bf16"),
            "set fp16 or bf16, not both",
            "error",
        )


def _value_kind(value) -> str:
    if value is None:
        return "none"
    for kind, python in (
        ("bool", bool),
        ("int", int),
        ("float", float),
        ("str", str),
        ("list", list),
        ("dict", dict),
    ):
        if isinstance(value, python):
            return kind
    return type(value).__name__


def _check_value_type(loc, key, value, info) -> Iterator[Finding]:
    allowed = info.scalar_types
    if not allowed:
        return
    samples = _search_samples(value) if is_search(value) else [value]
    for sample in samples:
        kind = _value_kind(sample)
        ok = kind in allowed or (kind == "int" and "float" in allowed)
        if not ok:
            yield loc, f"{key} takes {info.annotation}, not {kind} ({sample!r})", "error"
            return
        # Choices with a pattern (pissa_niter_[number of iters]) cannot be checked by equality.
        patterned = any("[" in c for c in info.choices)
        if kind == "str" and info.choices and sample not in info.choices and not patterned:
            close = difflib.get_close_matches(sample, info.choices, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            choices = ", ".join(info.choices)
            yield loc, f"{key}: '{sample}' is not one of {choices}{hint}", "error"
            return


def _search_samples(space) -> list:
    if isinstance(space, CategoricalSearch | DiscreteSearch):
        return list(space.values)
    if isinstance(space, IntSearch):
        return [space.min]
    return [float(space.min)]


def _check_search_spaces(spec: ExperimentSpec) -> Iterator[Finding]:
    tuned = spec.search_spaces()
    if not tuned:
        yield (
            ("trainer_parameters",),
            (
                "nothing is tuned: give at least one training_parameters or lora_config value "
                "as {search: double|int|categorical|discrete, ...}"
            ),
            "error",
        )
    seen: dict[str, str] = {}
    for section in ("training_parameters", "lora_config"):
        for key, value in getattr(spec.trainer_parameters, section).items():
            if not is_search(value):
                continue
            loc = ("trainer_parameters", section, key)
            if key in seen:
                yield loc, f"'{key}' is tuned in both {seen[key]} and {section}", "error"
            seen[key] = section
            yield from ((loc + sub, message, "error") for sub, message in _space_problems(value))


def _space_problems(space) -> Iterator[tuple[tuple, str]]:
    if isinstance(space, DoubleSearch | IntSearch):
        if space.min >= space.max:
            yield ("max",), f"max ({space.max}) must be greater than min ({space.min})"
            return
        if space.step is not None and not 0 < space.step <= space.max - space.min:
            yield ("step",), f"step must be > 0 and at most max - min ({space.max - space.min})"
        if space.distribution in ("logUniform", "logNormal") and space.min <= 0:
            yield ("min",), f"{space.distribution} needs min > 0"
    else:
        for value in space.values:
            if isinstance(value, str) and not SHELL_INERT.match(value):
                yield (
                    ("values",),
                    (
                        f"'{value}' must use only letters, digits and _.,:/+=@%-: Katib passes the "
                        "chosen value through a shell unquoted"
                    ),
                )
        duplicates = sorted({repr(v) for v in space.values if space.values.count(v) > 1})
        if duplicates:
            yield ("values",), f"values repeat: {', '.join(duplicates)}"
        if len({type(v) for v in space.values}) > 1:
            yield ("values",), "values must all have the same type"


def _check_objective(spec: ExperimentSpec) -> Iterator[Finding]:
    transformer = spec.model_provider_parameters.transformer_type
    known = metric_names(transformer, spec.has_eval_split())
    with_eval = metric_names(transformer, True)
    for loc, name in [(("objective_metric_name",), spec.objective_metric_name)] + [
        (("additional_metric_names", i), n) for i, n in enumerate(spec.additional_metric_names)
    ]:
        if name in known:
            continue
        if name in with_eval:
            why = (
                f"'{name}' is reported only with an eval split: set "
                f"dataset_provider_parameters.eval_split"
            )
        else:
            close = difflib.get_close_matches(name, list(with_eval), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            why = (
                f"'{name}' is not a metric the trainer reports "
                f"(it reports {', '.join(known)}){hint}"
            )
        yield loc, why, "error"
    named = {spec.objective_metric_name, *spec.additional_metric_names}
    for metric in spec.metric_strategies:
        if metric not in named:
            yield (
                ("metric_strategies", metric),
                f"'{metric}' is neither objective_metric_name nor in additional_metric_names",
                "error",
            )
    if spec.objective_metric_name in spec.additional_metric_names:
        yield ("additional_metric_names",), "must not repeat objective_metric_name", "error"
    if len(set(spec.additional_metric_names)) != len(spec.additional_metric_names):
        yield ("additional_metric_names",), "names repeat", "error"


def _check_counts(spec: ExperimentSpec) -> Iterator[Finding]:
    max_trials, parallel, failed = (
        spec.max_trial_count,
        spec.parallel_trial_count,
        spec.max_failed_trial_count,
    )
    if max_trials is not None and max_trials <= 0:
        yield ("max_trial_count",), "max_trial_count must be greater than 0", "error"
    if parallel is not None and parallel <= 0:
        yield ("parallel_trial_count",), "parallel_trial_count must be greater than 0", "error"
    if failed is not None and failed < 0:
        yield ("max_failed_trial_count",), "max_failed_trial_count must not be negative", "error"
    if max_trials is not None and max_trials > 0:
        if failed is not None and failed > max_trials:
            yield ("max_failed_trial_count",), "must not exceed max_trial_count", "error"
        if parallel is None and max_trials < DEFAULT_PARALLEL_TRIAL_COUNT:
            yield (
                ("max_trial_count",),
                (
                    f"Katib defaults parallel_trial_count to "
                    f"{DEFAULT_PARALLEL_TRIAL_COUNT}, more than "
                    f"max_trial_count {max_trials}: set parallel_trial_count"
                ),
                "error",
            )
        elif parallel is not None and parallel > max_trials:
            yield ("parallel_trial_count",), "must not exceed max_trial_count", "error"


def search_parameters(spec: ExperimentSpec) -> list[algorithms.SearchParameter]:
    parameters = []
    for name, (_, space) in spec.search_spaces().items():
        if isinstance(space, DoubleSearch | IntSearch):
            parameters.append(
                algorithms.SearchParameter(
                    name,
                    space.search,
                    space.min,
                    space.max,
                    space.step,
                    distribution=space.distribution,
                )
            )
        else:
            parameters.append(
                algorithms.SearchParameter(name, space.search, count=len(space.values))
            )
    return parameters


def _check_algorithm(spec: ExperimentSpec) -> Iterator[Finding]:
    settings = {k: algorithms.setting_text(v) for k, v in spec.algorithm_settings.items()}
    problems = algorithms.check_algorithm(
        spec.algorithm_name,
        settings,
        search_parameters(spec),
        spec.max_trial_count,
        spec.effective_parallel_trial_count,
    )
    for setting, message in problems:
        loc = ("algorithm_settings", setting) if setting else ("algorithm_name",)
        yield loc, message, "error"
    if spec.early_stopping is not None:
        early = {k: str(v) for k, v in spec.early_stopping.algorithm_settings.items()}
        for setting, message in algorithms.check_settings(
            early, algorithms.EARLY_STOPPING_SETTINGS
        ):
            yield ("early_stopping", "algorithm_settings", setting), message, "error"


def _check_resources(spec: ExperimentSpec) -> Iterator[Finding]:
    resources = spec.resources_per_trial
    if (
        resources.num_procs_per_worker
        and resources.gpus
        and resources.num_procs_per_worker > resources.gpus
    ):
        yield (
            ("resources_per_trial", "num_procs_per_worker"),
            ("more processes per worker than GPUs per worker"),
            "error",
        )
    # Every trial writes its output to the volume, so read-only modes do not help.
    if "ReadWriteMany" not in spec.storage_config.access_modes:
        if resources.num_workers > 1:
            yield (
                ("resources_per_trial", "num_workers"),
                f"{resources.num_workers} workers on different nodes share the experiment "
                "volume: storage_config.access_modes needs ReadWriteMany",
                "error",
            )
        elif spec.effective_parallel_trial_count > 1 and spec.cluster != LOCAL_CLUSTER:
            yield (
                ("storage_config", "access_modes"),
                "parallel trials scheduled on different nodes cannot share a volume without "
                "ReadWriteMany; they will wait for each other (fine on a one-node cluster)",
                "warning",
            )


def _check_env(spec: ExperimentSpec) -> Iterator[Finding]:
    for name, value in spec.env_per_trial.items():
        if isinstance(value, str) and SECRET_LOOKING_NAME.search(name):
            yield (
                ("env_per_trial", name),
                (
                    f"{name} looks like a credential: reference a Secret as {{secret: NAME, "
                    f"key: KEY}} "
                    "instead of writing its value"
                ),
                "error",
            )
