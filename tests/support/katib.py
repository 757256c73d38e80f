"""Katib Experiments and Trials as a v1beta1 API server returns them.

One experiment throughout: NAME in NAMESPACE, rendered from DEFINITION, a random search over
learning_rate, the LoRA rank r and use_rslora, at most four trials, two at a time, at most one
failed. Its four trials (`default_trials`) run on one day; the Experiment comes in each state the
Katib experiment controller (v0.19) puts it in, with the conditions, reasons, messages, counts and
current optimal trial it writes. Metric values are strings, as Katib stores them: "unavailable"
for a metric a collector never saw.

Every builder checks what it returns against the Katib SDK models (`sdk_models`), so a misspelt
field fails the test that builds it.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.support.sdk_models import require_known_fields

NAME = "llama-3-2-1b-imdb"
NAMESPACE = "kubeflow"
EXPERIMENT_UID = "3f1c2a9e-8d4b-4c1e-9a57-2b6f0d7e4c11"
TRAINER_IMAGE = "ghcr.io/example/hpo-trainer:0.1.0"
BEST_TRIAL = f"{NAME}-x7k2p"  # the trial with the lowest train_loss

DEFINITION = """\
name: llama-3-2-1b-imdb
cluster: gpu-cluster-1
namespace: kubeflow
model_provider_parameters:
  model_uri: hf://meta-llama/Llama-3.2-1B
  revision: 4e20de362430cd3b72f300e6b0f18e50e7166e08
  transformer_type: AutoModelForSequenceClassification
  num_labels: 2
  access_token: {secret: hf-token, key: token}
dataset_provider_parameters:
  repo_id: stanfordnlp/imdb
  revision: main
  split: train[:1000]
trainer_parameters:
  training_parameters:
    learning_rate: {search: double, min: 1.0e-5, max: 5.0e-5}
    num_train_epochs: 3
  lora_config:
    r: {search: int, min: 8, max: 32}
    use_rslora: {search: categorical, values: [true, false]}
    lora_alpha: 8
objective_metric_name: train_loss
objective_type: minimize
algorithm_name: random
max_trial_count: 4
parallel_trial_count: 2
resources_per_trial: {gpu: 2, cpu: 4, memory: 10G}
"""


def at(clock: str, day: str = "2025-05-01") -> str:
    """The API server's timestamp for `clock` ("HH:MM", UTC) on the experiment's day."""
    return f"{day}T{clock}:00Z"


CREATED_AT = at("09:59")  # the Experiment object is created (Argo CD syncs it)
STARTED_AT = at("10:00")  # the controller starts it and creates the first two trials
FINISHED_AT = at("12:20")  # the last trial completes, and with it the Experiment
RESTARTED_AT = at("09:00", day="2025-05-02")  # the next day, after maxTrialCount was raised


def condition(kind: str, status: str, reason: str, message: str, time: str) -> dict[str, Any]:
    """A status condition as Katib and the training operator write them."""
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": time,
        "lastTransitionTime": time,
    }


CREATED = condition("Created", "True", "ExperimentCreated", "Experiment is created", CREATED_AT)
RUNNING = condition("Running", "True", "ExperimentRunning", "Experiment is running", STARTED_AT)
NOT_RUNNING = condition(
    "Running", "False", "ExperimentRunning", "Experiment is running", FINISHED_AT
)
MAX_TRIALS_REACHED = (
    "ExperimentMaxTrialsReached",
    "Experiment has succeeded because max trial count has reached",
)
GOAL_REACHED = (
    "ExperimentGoalReached",
    "Experiment has succeeded because Objective goal has reached",
)
MAX_FAILED_REACHED = (
    "ExperimentMaxFailedTrialsReached",
    "Experiment has failed because max failed count has reached",
)

_OBJECTIVE = {
    "type": "minimize",
    "objectiveMetricName": "train_loss",
    "additionalMetricNames": ["eval_accuracy"],
    "metricStrategies": [
        {"name": "train_loss", "value": "min"},
        {"name": "eval_accuracy", "value": "latest"},
    ],
}
_SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
_FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'


def observation(train_loss: tuple[str, str, str] | None) -> list[dict[str, str]]:
    """A trial's metrics: train_loss as (min, max, latest), None when it was never reported."""
    loss = train_loss or ("unavailable",) * 3
    return [
        {"name": "train_loss", "min": loss[0], "max": loss[1], "latest": loss[2]},
        {"name": "eval_accuracy", "min": "0.81", "max": "0.88", "latest": "0.86"},
    ]


BEST_LOSS = ("0.412", "0.69", "0.415")
BEST_METRICS = observation(BEST_LOSS)


def trial(
    suffix: str,
    *,
    learning_rate: str,
    r: str,
    use_rslora: str,
    status: str = "Succeeded",
    train_loss: tuple[str, str, str] | None = ("0.41", "0.69", "0.43"),
    completed: str = at("11:00"),
    experiment: str = NAME,
) -> dict[str, Any]:
    """A Trial of `experiment` that ended in `status`; `train_loss` is (min, max, latest)."""
    conditions = [
        condition("Created", "True", "TrialCreated", "Trial is created", STARTED_AT),
        condition("Running", "False", "TrialRunning", "Trial is running", completed),
        condition(status, "True", f"Trial{status}", f"Trial has {status.lower()}", completed),
    ]
    obj = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Trial",
        "metadata": {
            "name": f"{experiment}-{suffix}",
            "namespace": NAMESPACE,
            "uid": f"00000000-0000-4000-8000-{suffix.rjust(12, '0')}",
            "resourceVersion": "1201",
            "generation": 1,
            "creationTimestamp": STARTED_AT,
            "labels": {"katib.kubeflow.org/experiment": experiment},
            "ownerReferences": [
                {
                    "apiVersion": "kubeflow.org/v1beta1",
                    "kind": "Experiment",
                    "name": experiment,
                    "uid": EXPERIMENT_UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "objective": copy.deepcopy(_OBJECTIVE),
            "parameterAssignments": [
                {"name": "learning_rate", "value": learning_rate},
                {"name": "r", "value": r},
                {"name": "use_rslora", "value": use_rslora},
            ],
            "metricsCollector": {"collector": {"kind": "StdOut"}},
            "primaryContainerName": "trainer",
            "successCondition": _SUCCESS,
            "failureCondition": _FAILURE,
            "runSpec": {"apiVersion": "batch/v1", "kind": "Job"},
            "labels": {"katib.kubeflow.org/experiment": experiment},
        },
        "status": {
            "startTime": STARTED_AT,
            "completionTime": completed,
            "conditions": conditions,
            "observation": None if status == "Failed" else {"metrics": observation(train_loss)},
        },
    }
    return require_known_fields(obj, "V1beta1Trial")


# suffix, learning_rate, r, use_rslora, train_loss (min, max, latest; None: failed), completed
_TRIALS = (
    ("x7k2p", "3.2e-05", "16", "true", BEST_LOSS, "11:40"),
    ("b9q4m", "1.1e-05", "8", "false", ("0.530", "0.69", "0.531"), "11:10"),
    ("c3d8w", "4.7e-05", "32", "false", ("0.447", "0.70", "0.450"), "12:20"),
    ("f5n1z", "2.0e-05", "24", "true", None, "12:05"),
)


def default_trials() -> list[dict[str, Any]]:
    """The experiment's four trials: three succeeded (BEST_TRIAL lowest), one failed."""
    return [
        trial(
            suffix,
            learning_rate=learning_rate,
            r=r,
            use_rslora=use_rslora,
            status="Succeeded" if loss else "Failed",
            train_loss=loss,
            completed=at(clock),
        )
        for suffix, learning_rate, r, use_rslora, loss, clock in _TRIALS
    ]


def experiment_spec(**changes: Any) -> dict[str, Any]:
    """The spec `hpo render` writes for DEFINITION, as the webhook fills it in; `changes`
    replace top-level fields."""
    spec: dict[str, Any] = {
        "parameters": [
            {
                "name": "learning_rate",
                "parameterType": "double",
                "feasibleSpace": {"min": "1e-05", "max": "5e-05"},
            },
            {"name": "r", "parameterType": "int", "feasibleSpace": {"min": "8", "max": "32"}},
            {
                "name": "use_rslora",
                "parameterType": "categorical",
                "feasibleSpace": {"list": ["true", "false"]},
            },
        ],
        "objective": copy.deepcopy(_OBJECTIVE),
        "algorithm": {"algorithmName": "random"},
        "trialTemplate": {
            "retain": False,
            "primaryContainerName": "trainer",
            "trialParameters": [
                {"name": "learning_rate", "reference": "learning_rate"},
                {"name": "r", "reference": "r"},
                {"name": "use_rslora", "reference": "use_rslora"},
            ],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "initContainers": [{"name": "wait-cache", "image": "busybox:1.36"}],
                            "containers": [
                                {
                                    "name": "trainer",
                                    "image": TRAINER_IMAGE,
                                    "command": ["python", "-m", "trainer"],
                                }
                            ],
                        }
                    }
                },
            },
            "successCondition": _SUCCESS,
            "failureCondition": _FAILURE,
        },
        "parallelTrialCount": 2,
        "maxTrialCount": 4,
        "maxFailedTrialCount": 1,
        "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
        "resumePolicy": "Never",
    }
    spec.update(changes)
    return spec


def experiment(
    status: dict[str, Any] | None, *, resource_version: str = "1500", **spec_changes: Any
) -> dict[str, Any]:
    """The Experiment with `status` (None: not yet seen by the controller)."""
    obj: dict[str, Any] = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {
            "name": NAME,
            "namespace": NAMESPACE,
            "uid": EXPERIMENT_UID,
            "resourceVersion": resource_version,
            "generation": 1,
            "creationTimestamp": CREATED_AT,
            "annotations": {"argocd.argoproj.io/sync-wave": "2"},
            "finalizers": ["update-prometheus-metrics"],
        },
        "spec": experiment_spec(**spec_changes),
    }
    if status is not None:
        obj["status"] = copy.deepcopy(status)  # shared conditions and metrics stay unchanged
    return require_known_fields(obj, "V1beta1Experiment")


def optimal_trial(metrics: list[dict[str, str]] | None) -> dict[str, Any]:
    """status.currentOptimalTrial: BEST_TRIAL with `metrics`, or empty (None) as Katib writes it
    before any trial has reported."""
    if metrics is None:
        return {"bestTrialName": "", "parameterAssignments": None, "observation": {"metrics": None}}
    return {
        "bestTrialName": BEST_TRIAL,
        "parameterAssignments": [
            {"name": "learning_rate", "value": "3.2e-05"},
            {"name": "r", "value": "16"},
            {"name": "use_rslora", "value": "true"},
        ],
        "observation": {"metrics": metrics},
    }


def experiment_status(conditions: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """An Experiment status holding `conditions`; `fields` add or replace the rest."""
    status: dict[str, Any] = {
        "startTime": STARTED_AT,
        "lastReconcileTime": max(
            (c.get("lastUpdateTime", STARTED_AT) for c in conditions), default=STARTED_AT
        ),
        "conditions": conditions,
        "currentOptimalTrial": optimal_trial(None),
    }
    status.update(fields)
    return status


_DONE = {  # the counts once all four trials have finished, as default_trials has them
    "trials": 4,
    "trialsSucceeded": 3,
    "trialsFailed": 1,
    "succeededTrialList": [f"{NAME}-x7k2p", f"{NAME}-b9q4m", f"{NAME}-c3d8w"],
    "failedTrialList": [f"{NAME}-f5n1z"],
    "currentOptimalTrial": optimal_trial(BEST_METRICS),
}


def running_experiment(*, resource_version: str = "1500") -> dict[str, Any]:
    """Two trials succeeded (BEST_TRIAL among them), two running."""
    status = experiment_status(
        [CREATED, RUNNING],
        trials=4,
        trialsSucceeded=2,
        trialsRunning=2,
        succeededTrialList=[f"{NAME}-x7k2p", f"{NAME}-b9q4m"],
        runningTrialList=[f"{NAME}-c3d8w", f"{NAME}-f5n1z"],
        currentOptimalTrial=optimal_trial(BEST_METRICS),
    )
    return experiment(status, resource_version=resource_version)


def succeeded_experiment(
    reason: str = MAX_TRIALS_REACHED[0],
    message: str = MAX_TRIALS_REACHED[1],
    *,
    resource_version: str = "1500",
) -> dict[str, Any]:
    """All four trials done, three of them succeeded; by default ended at maxTrialCount."""
    succeeded = condition("Succeeded", "True", reason, message, FINISHED_AT)
    status = experiment_status(
        [CREATED, NOT_RUNNING, succeeded], completionTime=FINISHED_AT, **_DONE
    )
    return experiment(status, resource_version=resource_version)


def failed_experiment(*, resource_version: str = "1500") -> dict[str, Any]:
    """Two failed trials, more than maxFailedTrialCount (1) allows."""
    failed = condition("Failed", "True", *MAX_FAILED_REACHED, FINISHED_AT)
    status = experiment_status(
        [CREATED, NOT_RUNNING, failed],
        completionTime=FINISHED_AT,
        trials=4,
        trialsSucceeded=2,
        trialsFailed=2,
        succeededTrialList=[f"{NAME}-x7k2p", f"{NAME}-b9q4m"],
        failedTrialList=[f"{NAME}-c3d8w", f"{NAME}-f5n1z"],
        currentOptimalTrial=optimal_trial(BEST_METRICS),
    )
    return experiment(status, resource_version=resource_version)


def restarting_experiment(*, resource_version: str = "1500") -> dict[str, Any]:
    """Succeeded at four trials, then restarted because maxTrialCount was raised to six."""
    restarting = condition(
        "Restarting", "True", "ExperimentRestarting", "Experiment is restarted", RESTARTED_AT
    )
    status = experiment_status([CREATED, NOT_RUNNING, restarting], **_DONE)
    return experiment(
        status, resource_version=resource_version, maxTrialCount=6, resumePolicy="LongRunning"
    )


def experiment_in(state: str, *, resource_version: str = "1500") -> dict[str, Any]:
    """The Experiment in `state`: Running, Succeeded, Failed or Restarting."""
    builders = {
        "Running": running_experiment,
        "Succeeded": succeeded_experiment,
        "Failed": failed_experiment,
        "Restarting": restarting_experiment,
    }
    return builders[state](resource_version=resource_version)


def with_status_fields(obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A copy of `obj` whose status has `fields` added or replaced."""
    changed = copy.deepcopy(obj)
    changed["status"].update(fields)
    return changed


def experiment_with_conditions(
    name: str, version: int, *conditions: tuple[str, str], message: str = ""
) -> dict[str, Any]:
    """A bare Experiment whose status holds only `conditions`, each (type, "True"|"False")."""
    obj = {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": NAMESPACE, "resourceVersion": str(version)},
        "status": {
            "conditions": [
                condition(kind, status, f"Experiment{kind}", message, STARTED_AT)
                for kind, status in conditions
            ]
        },
    }
    return require_known_fields(obj, "V1beta1Experiment")
