"""Checks of a well-formed definition that span fields, the installed libraries or the repository.

Each check appends located Problems; none stops the others, so one run reports everything.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from generator.definition import LoadedDefinition
from generator.errors import Problem
from generator.repo_config import LOCAL_CLUSTER, RepoConfig, image_pin_problem
from generator.spec import (
    DEFAULT_PARALLEL_TRIAL_COUNT,
    ExperimentSpec,
    S3DatasetParams,
    is_local_path,
)
from generator.trainer_checks import check_algorithm, check_search_spaces, check_trainer_fields
from generator.validate.pod_policy import SECRET_LOOKING_NAME
from trainer.catalog import TASKS, metric_names

HF_MODEL = re.compile(r"^hf://[\w.-]+(/[\w.-]+)?$")
HF_DATASET = re.compile(r"^(hf://)?[\w.-]+(/[\w.-]+)?$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


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
    yield from check_trainer_fields(spec)
    yield from check_search_spaces(spec)
    yield from _check_objective(spec)
    yield from _check_counts(spec)
    yield from check_algorithm(spec)
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
