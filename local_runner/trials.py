"""Starting one trial: its parameters, its command with them substituted, its process.

The command is the rendered trial container's command and args; `${trialParameters.X}` becomes
the Katib string of the assigned value (or the trial's name) exactly as Katib substitutes it,
and /workspace paths point into the local work folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from local_runner.devices import Slot
from local_runner.environment import container_env, neutral_env
from local_runner.errors import UnsupportedLocallyError
from local_runner.medianstop import StoppingRule
from local_runner.metrics import TrialMetrics
from local_runner.nodes import NodeGroup, free_port, node_log, torch_node_env
from local_runner.plan import TRIAL_NAME_REFERENCE, LocalPlan
from local_runner.process import ChildProcess
from local_runner.workspace import Workspace, local_argv

_PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]+)\}")
_PARAMETER_REFERENCE = re.compile(r"^[^${}]+$")


def trial_name(experiment: str, number: int) -> str:
    return f"{experiment}-{number:03d}"


def check_references(plan: LocalPlan) -> None:
    """Every trial parameter names a Katib parameter or the trial's name."""
    known = {p.name for p in plan.parameters}
    for placeholder, reference in plan.trial_parameters.items():
        if reference == TRIAL_NAME_REFERENCE:
            continue
        if not _PARAMETER_REFERENCE.match(reference) or reference not in known:
            raise UnsupportedLocallyError(
                f"trial parameter {placeholder} refers to {reference}, which is neither a tuned "
                "parameter nor ${trialSpec.Name}"
            )


def substitute(text: str, plan: LocalPlan, name: str, assignments: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        reference = plan.trial_parameters[match.group(1)]
        return name if reference == TRIAL_NAME_REFERENCE else assignments[reference]

    return _PLACEHOLDER.sub(value, text)


def trial_command(
    plan: LocalPlan, workspace: Workspace, name: str, assignments: dict[str, str]
) -> list[str]:
    filled = tuple(substitute(arg, plan, name, assignments) for arg in plan.trial.argv)
    return local_argv(filled, workspace.trial_path)


def trial_env(plan: LocalPlan, workspace: Workspace, slot: Slot) -> dict[str, str]:
    """Neutral host variables, then the slot's thread counts, then the container's own variables.

    Credentials in the shell (HF_TOKEN, AWS keys, HPO_SECRET_*) reach a trial only when its
    container spec asks for them, as in a pod.
    """
    base = {**neutral_env(os.environ), **slot.env()}
    env = container_env(plan.trial.env, os.environ, workspace.trial_path, plan.trial.name, base)
    env["CUDA_VISIBLE_DEVICES"] = slot.env()["CUDA_VISIBLE_DEVICES"]  # the slot's GPUs only
    return env


@dataclass
class RunningTrial:
    trial: object  # optuna.trial.Trial
    name: str
    assignments: dict[str, str]
    slot: Slot
    metrics: TrialMetrics
    process: ChildProcess | NodeGroup
    rule: StoppingRule | None
    checked: int = 0  # objective reports already compared with the rule
    stopped_as: str | None = None  # the status to record when hpo ended it on purpose
    notes: list[str] = field(default_factory=list)


def start_trial(
    plan: LocalPlan,
    workspace: Workspace,
    trial,
    assignments: dict[str, str],
    slot: Slot,
    rule: StoppingRule | None,
) -> RunningTrial:
    name = trial_name(plan.name, trial.number)
    metrics = TrialMetrics(plan.metric_names, plan.metric_strategies)
    argv = trial_command(plan, workspace, name, assignments)
    log = workspace.log_file(name)
    if plan.trial_api != "TrainJob":
        process = ChildProcess(
            argv, trial_env(plan, workspace, slot), workspace.root, log, on_line=metrics.feed
        )
        return RunningTrial(trial, name, assignments, slot, metrics, process, rule)
    port, nodes = free_port(), []
    try:
        for rank, node_slot in enumerate(slot.split(plan.nodes)):
            env = trial_env(plan, workspace, node_slot)
            env.update(torch_node_env(plan.nodes, rank, plan.procs_per_node, port))
            nodes.append(
                ChildProcess(
                    argv,
                    env,
                    workspace.root,
                    node_log(log, rank),
                    on_line=metrics.feed if rank == 0 else None,
                )
            )
    except OSError:
        for node in nodes:
            node.stop()
        raise
    return RunningTrial(trial, name, assignments, slot, metrics, NodeGroup(nodes), rule)
