"""What the local runner reads from the rendered objects: commands, search space, limits.

Everything comes from the Katib Experiment and the download Job exactly as the generator rendered
them for the cluster, so a local trial runs the command a trial pod would run. Nothing here reads
the definition's YAML directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from katib.objects import metric_strategies
from local_runner.errors import UnsupportedLocallyError
from suggestion.space import Parameter

TRIAL_NAME_REFERENCE = "${trialSpec.Name}"
# Katib's medianstop defaults (pkg/earlystopping/v1beta1/medianstop).
MEDIANSTOP_DEFAULTS = {"min_trials_required": "3", "start_step": "4"}


@dataclass(frozen=True)
class Command:
    """One container's command line and environment, still in the pod's terms (/workspace)."""

    name: str
    argv: tuple[str, ...]
    env: tuple[dict, ...] = ()


@dataclass(frozen=True)
class EarlyStopping:
    min_trials_required: int
    start_step: int


@dataclass(frozen=True)
class LocalPlan:
    name: str
    objective_metric: str
    objective_type: str  # minimize | maximize
    goal: float | None
    metric_strategies: dict[str, str]  # metric -> min | max | latest
    algorithm: str
    algorithm_settings: dict[str, str]
    early_stopping: EarlyStopping | None
    parameters: tuple[Parameter, ...]
    trial_parameters: dict[str, str]  # placeholder -> Katib parameter name or trialSpec reference
    trial: Command
    downloads: tuple[Command, ...]
    parallel_trial_count: int
    max_trial_count: int | None
    max_failed_trial_count: int | None
    cpus_per_trial: float = 1.0
    gpus_per_trial: int = 0
    deadline_seconds: int | None = None
    metric_names: tuple[str, ...] = field(default=())
    nodes: int = 1  # processes a trial runs as, one per node (Trainer v2 TrainJobs)
    procs_per_node: int = 1  # what torchrun starts on each node (TrainJobs)
    trial_api: str = "Job"  # the rendered trial's kind: Job or TrainJob


def cpu_quantity(text: str | int | float) -> float:
    """A Kubernetes CPU quantity ("4", "500m", "1.5") in cores."""
    text = str(text)
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    return float(text)


def _command(container: dict) -> Command:
    return Command(
        name=container["name"],
        argv=tuple(container.get("command") or ()) + tuple(container.get("args") or ()),
        env=tuple(container.get("env") or ()),
    )


def _early_stopping(spec: dict) -> EarlyStopping | None:
    early = spec.get("earlyStopping")
    if not early:
        return None
    if early["algorithmName"] != "medianstop":
        raise UnsupportedLocallyError(
            f"early stopping '{early['algorithmName']}' has no local equivalent; use medianstop"
        )
    settings = dict(MEDIANSTOP_DEFAULTS)
    settings.update({s["name"]: s["value"] for s in early.get("algorithmSettings") or ()})
    return EarlyStopping(int(settings["min_trials_required"]), int(settings["start_step"]))


def _trial_container(template: dict) -> tuple[dict, int, int]:
    """The container that trains, on how many nodes, with how many processes each."""
    trial_spec = template["trialSpec"]
    if trial_spec["kind"] == "TrainJob":
        # Trainer v2 sets its runtime's "node" container from the TrainJob's trainer.
        trainer = trial_spec["spec"]["trainer"]
        container = {key: trainer[key] for key in ("command", "args", "env") if key in trainer}
        container["name"] = template.get("primaryContainerName") or "node"
        container["resources"] = trainer.get("resourcesPerNode") or {}
        return container, int(trainer.get("numNodes") or 1), int(trainer.get("numProcPerNode") or 1)
    if trial_spec["kind"] != "Job":
        raise UnsupportedLocallyError(
            f"trials run as a {trial_spec['kind']} across several nodes (num_workers > 1); "
            "hpo tune --local runs those only as Trainer v2 TrainJobs: set num_workers to 1, "
            "or render the experiment for a cluster with trial_api: TrainJob"
        )
    containers = trial_spec["spec"]["template"]["spec"]["containers"]
    primary = template.get("primaryContainerName")
    return next((c for c in containers if c["name"] == primary), containers[0]), 1, 1


def _placeholders(argv: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for arg in argv:
        found.update(re.findall(r"\$\{trialParameters\.([^}]+)\}", arg))
    return found


def build_plan(experiment: dict, download_job: dict) -> LocalPlan:
    """The local plan of one rendered Experiment and its storage-init Job."""
    spec = experiment["spec"]
    template = spec["trialTemplate"]
    container, nodes, procs = _trial_container(template)
    trial = _command(container)
    limits = container.get("resources", {}).get("limits", {})
    pod = download_job["spec"]["template"]["spec"]
    downloads = tuple(_command(c) for c in pod.get("initContainers", []) + pod["containers"])
    trial_parameters = {p["name"]: p["reference"] for p in template["trialParameters"]}
    missing = sorted(_placeholders(trial.argv) - set(trial_parameters))
    if missing:
        raise UnsupportedLocallyError(
            f"the trial command uses undeclared trial parameters: {', '.join(missing)}"
        )
    objective = spec["objective"]
    metric = objective["objectiveMetricName"]
    names = (metric, *(objective.get("additionalMetricNames") or ()))
    return LocalPlan(
        name=experiment["metadata"]["name"],
        objective_metric=metric,
        objective_type=objective["type"],
        goal=objective.get("goal"),
        metric_strategies=metric_strategies(experiment),
        algorithm=spec["algorithm"]["algorithmName"],
        algorithm_settings={
            s["name"]: s["value"] for s in spec["algorithm"].get("algorithmSettings") or ()
        },
        early_stopping=_early_stopping(spec),
        parameters=tuple(Parameter.from_katib(p) for p in spec["parameters"]),
        trial_parameters=trial_parameters,
        trial=trial,
        downloads=downloads,
        parallel_trial_count=int(spec.get("parallelTrialCount") or 3),
        max_trial_count=spec.get("maxTrialCount"),
        max_failed_trial_count=spec.get("maxFailedTrialCount"),
        # A trial's nodes all run on this machine: its slot holds every node's share.
        cpus_per_trial=cpu_quantity(limits.get("cpu", "1")) * nodes,
        gpus_per_trial=int(limits.get("nvidia.com/gpu", 0)) * nodes,
        nodes=nodes,
        procs_per_node=procs,
        trial_api=template["trialSpec"]["kind"],
        deadline_seconds=template["trialSpec"]["spec"].get("activeDeadlineSeconds"),
        metric_names=names,
    )
