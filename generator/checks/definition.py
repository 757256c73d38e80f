"""Checks of a well-formed definition that span fields, the installed libraries or the repository.

Each check appends located Problems; none stops the others, so one run reports everything.
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.checks.asha import check_asha
from generator.checks.cost import budget_gpu_hours, budget_text, gpus_per_trial, worst_case
from generator.checks.secret_store import check_secret_store
from generator.checks.secrets import document_problems
from generator.checks.sources import check_sources
from generator.checks.trainer import check_algorithm, check_search_spaces, check_trainer_fields
from generator.errors import Problem
from generator.loading.definition import LoadedDefinition
from generator.loading.model_errors import did_you_mean
from generator.loading.repo_config import LOCAL_CLUSTER, Cluster, RepoConfig, image_pin_problem
from generator.spec import (
    DEFAULT_PARALLEL_TRIAL_COUNT,
    ExperimentSpec,
)
from generator.validate import dotted
from generator.validate.pod_policy import SECRET_LOOKING_NAME
from trainer.catalog import metric_names


def check_definition(loaded: LoadedDefinition, folder_name: str | None, repo: RepoConfig):
    """Every problem of a definition beyond its structure; folder_name is None for loose files.

    A structurally broken definition is checked through its salvaged spec; findings at or
    under a broken key are dropped, since they would describe the stand-in, not the text.
    """
    spec, doc = loaded.spec or loaded.salvaged, loaded.document
    if doc is None:
        return []
    problems: list[Problem] = []
    if spec is not None:
        tainted = _tainted_keys(loaded.broken) if loaded.spec is None else set()
        for loc, message, severity in _findings(spec, folder_name, repo):
            if loaded.spec is None and (severity != "error" or not loc or loc[0] in tainted):
                continue
            problems.append(doc.problem(loc, message, severity=severity))
    # Credentials by what they look like, wherever they stand; one line per place, so a value
    # a field or a name already refuses as a credential is not reported twice.
    refused = {
        (p.line, p.col)
        for p in loaded.problems + problems
        if p.is_error and "credential" in p.message
    }
    problems += [p for p in document_problems(doc) if (p.line, p.col) not in refused]
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
    {
        "cluster",
        "resources_per_trial",
        "parallel_trial_count",
        "max_trial_count",
        "storage_config",
        "trial_active_deadline_seconds",
        "budget",
    },
)


def _tainted_keys(broken: tuple[tuple, ...]) -> set:
    tainted = {loc[0] for loc in broken if loc} | {"name"}  # a broken name has a stand-in
    for group in CHECKED_TOGETHER:
        if group & tainted:
            tainted |= group
    return tainted


Finding = tuple[tuple, str, str]


def check_record(loaded: LoadedDefinition, folder_name: str | None) -> list[Problem]:
    """An archived definition is a record of a run, not an experiment to run: the rules that
    judge a runnable one (clusters, images, libraries) may change after it ran. It is checked
    for its folder name and for credentials only."""
    spec, doc = loaded.spec or loaded.salvaged, loaded.document
    if doc is None:
        return []
    problems = [doc.problem(loc, m, severity=sev) for loc, m, sev in _folder(spec, folder_name)]
    return problems + document_problems(doc)


def _folder(spec: ExperimentSpec | None, folder_name: str | None) -> Iterator[Finding]:
    if spec is not None and folder_name is not None and spec.name != folder_name:
        yield ("name",), f"name '{spec.name}' must equal its folder name '{folder_name}'", "error"


def _findings(spec: ExperimentSpec, folder_name: str | None, repo: RepoConfig) -> Iterator[Finding]:
    yield from _folder(spec, folder_name)
    yield from _check_cluster(spec, repo)
    yield from check_sources(spec)
    yield from check_trainer_fields(spec)
    yield from check_search_spaces(spec)
    yield from _check_objective(spec)
    yield from _check_counts(spec)
    yield from check_algorithm(spec)
    yield from check_asha(spec)
    yield from _check_resources(spec)
    yield from _check_budget(spec)
    yield from _check_env(spec)
    for role, reference in spec.images.model_dump(exclude_none=True).items():
        if (why := image_pin_problem(reference)) is not None:
            yield ("images", role), f"images.{role}: {why}", "error"


def _check_cluster(spec: ExperimentSpec, repo: RepoConfig) -> Iterator[Finding]:
    if spec.cluster == LOCAL_CLUSTER or not repo.clusters:
        return
    cluster = repo.clusters.get(spec.cluster)
    if cluster is None:
        hint = did_you_mean(spec.cluster, repo.clusters)
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
    demand = gpu_demand(spec)
    if spec.max_trial_count is None:
        yield (
            ("max_trial_count",),
            "set max_trial_count: without it Katib runs trials until the goal is met, and the "
            "GPU budget has no bound",
            "error",
        )
    yield from _check_cost(spec, cluster)
    yield from check_secret_store(spec, cluster)
    if demand > cluster.gpu_quota:
        loc = demand_location(spec)
        yield (
            loc,
            (
                f"{dotted(loc)}: {parallel} parallel trials x {gpus_per_trial(spec)} GPUs = "
                f"{demand} GPUs, more than the {cluster.gpu_quota} GPUs cluster "
                f"'{cluster.name}' allows (its gpu_quota)"
            ),
            "error",
        )


def gpu_demand(spec: ExperimentSpec) -> int:
    """The most GPUs the experiment holds at once: parallel trials x GPUs per node x nodes."""
    return spec.effective_parallel_trial_count * gpus_per_trial(spec)


def demand_location(spec: ExperimentSpec) -> tuple:
    """Where a definition sets its GPU demand: parallel_trial_count if written, else the GPUs."""
    if "parallel_trial_count" in spec.model_fields_set:
        return ("parallel_trial_count",)
    return ("resources_per_trial", "gpu")


def _check_cost(spec: ExperimentSpec, cluster: Cluster) -> Iterator[Finding]:
    """The most the experiment may spend: its worst case, or else a budget, within the limit."""
    limit = cluster.max_gpu_hours_per_experiment
    worst = worst_case(spec, cluster)
    allowed = budget_gpu_hours(spec)
    if limit is None or worst.gpu_hours <= limit or (allowed is not None and allowed <= limit):
        return
    shape = worst.shape
    if allowed is None:
        yield (
            ("max_trial_count",),
            f"the worst case, {shape}, exceeds the {limit:g} GPU-hours cluster "
            f"'{cluster.name}' allows per experiment: set budget: {{gpu_hours: {limit:g}}} or "
            "less, or lower max_trial_count or trial_active_deadline_seconds",
            "error",
        )
    else:
        yield (
            ("budget",),
            f"budget: {budget_text(spec)} exceeds the {limit:g} GPU-hours cluster "
            f"'{cluster.name}' allows per experiment, and the worst case, {shape}, does too: "
            f"lower the budget to {limit:g} GPU-hours or less",
            "error",
        )


def _check_budget(spec: ExperimentSpec) -> Iterator[Finding]:
    if spec.budget is not None and spec.budget.unit == "gpu_hours" and not gpus_per_trial(spec):
        yield (
            ("budget", "gpu_hours"),
            "budget.gpu_hours counts GPU time, and this experiment requests no GPU "
            "(resources_per_trial.gpu): bound its trials' wall time with trial_hours instead",
            "error",
        )


def _check_objective(spec: ExperimentSpec) -> Iterator[Finding]:
    transformer = spec.model_provider_parameters.transformer_type
    known = metric_names(transformer, spec.has_eval_split())
    with_eval = metric_names(transformer, True)
    if spec.objectives is not None:
        objective_locs = [
            (("objectives", i, "metric"), o.metric) for i, o in enumerate(spec.objectives)
        ]
    else:
        objective_locs = [(("objective_metric_name",), spec.objective_metric_name)]
    for loc, name in objective_locs + [
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
            hint = did_you_mean(name, with_eval)
            why = (
                f"'{name}' is not a metric the trainer reports "
                f"(it reports {', '.join(known)}){hint}"
            )
        yield loc, f"{dotted(loc)}: {why}", "error"
    objectives = [o.metric for o in spec.all_objectives]
    named = {*objectives, *spec.additional_metric_names}
    for metric in spec.metric_strategies:
        if metric not in named:
            yield (
                ("metric_strategies", metric),
                f"metric_strategies.{metric}: '{metric}' is neither an objective nor in "
                "additional_metric_names",
                "error",
            )
    if set(objectives) & set(spec.additional_metric_names):
        yield (
            ("additional_metric_names",),
            "additional_metric_names must not repeat an objective's metric",
            "error",
        )
    if len(set(objectives)) != len(objectives):
        yield ("objectives",), "objectives: a metric is listed twice", "error"
    if spec.objectives is not None and spec.objective_goal is not None:
        yield (
            ("objective_goal",),
            "objective_goal ends an experiment when one metric reaches it; with several "
            "objectives there is no single goal: remove it",
            "error",
        )
    if len(set(spec.additional_metric_names)) != len(spec.additional_metric_names):
        yield ("additional_metric_names",), "additional_metric_names: names repeat", "error"


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
            yield (
                ("max_failed_trial_count",),
                f"max_failed_trial_count ({failed}) must not exceed max_trial_count ({max_trials})",
                "error",
            )
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
            yield (
                ("parallel_trial_count",),
                f"parallel_trial_count ({parallel}) must not exceed max_trial_count ({max_trials})",
                "error",
            )


def _check_resources(spec: ExperimentSpec) -> Iterator[Finding]:
    resources = spec.resources_per_trial
    if (
        resources.num_procs_per_worker
        and resources.gpus
        and resources.num_procs_per_worker > resources.gpus
    ):
        yield (
            ("resources_per_trial", "num_procs_per_worker"),
            (
                f"resources_per_trial.num_procs_per_worker ({resources.num_procs_per_worker}) "
                f"is more than the GPUs per worker (resources_per_trial.gpu: {resources.gpus})"
            ),
            "error",
        )
    # Every trial writes its output to the volume, so read-only modes do not help.
    if "ReadWriteMany" not in spec.storage_config.access_modes:
        if resources.num_workers > 1:
            yield (
                ("resources_per_trial", "num_workers"),
                f"resources_per_trial.num_workers: {resources.num_workers} workers on different "
                "nodes share the experiment "
                "volume: storage_config.access_modes needs ReadWriteMany",
                "error",
            )
        elif spec.effective_parallel_trial_count > 1 and spec.cluster != LOCAL_CLUSTER:
            yield (
                ("storage_config", "access_modes"),
                "storage_config.access_modes: parallel trials scheduled on different nodes "
                "cannot share a volume without "
                "ReadWriteMany; they will wait for each other (fine on a one-node cluster)",
                "warning",
            )


def _check_env(spec: ExperimentSpec) -> Iterator[Finding]:
    for name, value in spec.env_per_trial.items():
        if isinstance(value, str) and SECRET_LOOKING_NAME.search(name):
            yield (
                ("env_per_trial", name),
                (
                    f"env_per_trial.{name} looks like a credential by its name: reference a "
                    "Secret as {secret: NAME, key: KEY} instead of writing its value"
                ),
                "error",
            )
