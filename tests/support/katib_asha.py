"""An `hpo-asha` Experiment and its Trials, as a v1beta1 API server returns them.

The experiment of `tests.support.katib` (the same name, inputs and search space, but the
learning rate searched on a log scale) run by hpo-asha with 3 rungs and a reduction factor of 3.
The trainer plans 9 optimizer steps for a full run, so the rungs stop at steps 1, 3 and 9: a
rung-0 trial trains 1 step, a rung-1 trial resumes it and trains 2 more, a rung-2 trial 6 more.

Nine configurations started at rung 0 (configuration 5 failed), the best three of them climbed
to rung 1, and the best of those to rung 2. Configuration 8 finished rung 0 last, with the
lowest loss of all; the experiment had reached its trial count, so it was never promoted. Katib,
which knows nothing of rungs, names its rung-0 trial optimal.

Under hpo-asha the objective counts its latest report (the value at the rung's last step) and
every trial reports `trained_steps`, the steps it ran itself.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.support import katib
from tests.support.sdk_models import require_known_fields

RUNGS, REDUCTION_FACTOR, FULL_RUN_STEPS = 3, 3, 9
OWN_STEPS = {0: 1, 1: 2, 2: 6}  # what a trial at each rung trains itself

DEFINITION = (
    katib.DEFINITION.replace(
        "learning_rate: {search: double, min: 1.0e-5, max: 5.0e-5}",
        "learning_rate: {search: double, min: 1.0e-5, max: 5.0e-5, distribution: logUniform}",
    )
    .replace(
        "algorithm_name: random\n",
        "algorithm_name: hpo-asha\n"
        "algorithm_settings: {rungs: 3, reduction_factor: 3, sampler: random}\n",
    )
    .replace("max_trial_count: 4\n", "max_trial_count: 13\n")
)
assert DEFINITION.count("hpo-asha") == 1 and "logUniform" in DEFINITION

OBJECTIVE = {
    "type": "minimize",
    "objectiveMetricName": "train_loss",
    "additionalMetricNames": ["eval_accuracy", "trained_steps"],
    "metricStrategies": [
        {"name": "train_loss", "value": "latest"},
        {"name": "eval_accuracy", "value": "latest"},
        {"name": "trained_steps", "value": "latest"},
    ],
}

# suffix, configuration, rung, learning_rate, r, use_rslora, train_loss (None: failed), completed
TRIALS = (
    ("a0c00", 0, 0, "1e-05", "8", "false", "0.62", "10:05"),
    ("a0c01", 1, 0, "3e-05", "16", "true", "0.48", "10:06"),
    ("a0c02", 2, 0, "2e-05", "32", "false", "0.55", "10:10"),
    ("a0c03", 3, 0, "4.5e-05", "8", "true", "0.51", "10:11"),
    ("a0c04", 4, 0, "1.5e-05", "24", "false", "0.66", "10:15"),
    ("a0c05", 5, 0, "2.5e-05", "16", "false", None, "10:16"),
    ("a1c01", 1, 1, "3e-05", "16", "true", "0.41", "10:25"),
    ("a0c06", 6, 0, "4e-05", "32", "true", "0.58", "10:26"),
    ("a0c07", 7, 0, "1.2e-05", "8", "false", "0.60", "10:30"),
    ("a1c03", 3, 1, "4.5e-05", "8", "true", "0.44", "10:35"),
    ("a1c02", 2, 1, "2e-05", "32", "false", "0.47", "10:40"),
    ("a2c01", 1, 2, "3e-05", "16", "true", "0.35", "11:10"),
    ("a0c08", 8, 0, "3.5e-05", "24", "true", "0.30", "11:12"),
)
TOP_TRIAL = f"{katib.NAME}-a2c01"  # the best, and only, trial of the top rung
LOWEST_LOSS_TRIAL = f"{katib.NAME}-a0c08"  # Katib's optimal trial: rung 0


def asha_trial(
    suffix: str,
    config: int,
    rung: int,
    learning_rate: str,
    r: str,
    use_rslora: str,
    loss: str | None,
    completed: str,
    *,
    steps: int | None = None,
) -> dict[str, Any]:
    """A Trial hpo-asha made: its assignments name its rung and configuration, and it reports
    the steps it trained itself (`steps`, by default its rung's)."""
    trial = katib.trial(
        suffix,
        learning_rate=learning_rate,
        r=r,
        use_rslora=use_rslora,
        status="Succeeded" if loss else "Failed",
        train_loss=(loss, "0.69", loss) if loss else None,
        completed=katib.at(completed),
    )
    trial["spec"]["objective"] = copy.deepcopy(OBJECTIVE)
    trial["spec"]["parameterAssignments"] += [
        {"name": "hpo_rung", "value": str(rung)},
        {"name": "hpo_config", "value": str(config)},
    ]
    observation = trial["status"]["observation"]
    if observation is not None:
        own = str(OWN_STEPS[rung] if steps is None else steps)
        observation["metrics"].append(
            {"name": "trained_steps", "min": own, "max": own, "latest": own}
        )
    return require_known_fields(trial, "V1beta1Trial")


def trials(rows: tuple = TRIALS) -> list[dict[str, Any]]:
    return [asha_trial(*row) for row in rows]


def _parameters() -> list[dict[str, Any]]:
    parameters = copy.deepcopy(katib.experiment_spec()["parameters"])
    parameters[0]["feasibleSpace"]["distribution"] = "logUniform"
    return parameters + [
        {
            "name": "hpo_rung",
            "parameterType": "categorical",
            "feasibleSpace": {"list": [str(k) for k in range(RUNGS)]},
        },
        {"name": "hpo_config", "parameterType": "int", "feasibleSpace": {"min": "0", "max": "12"}},
    ]


def experiment(rows: tuple = TRIALS) -> dict[str, Any]:
    """The Experiment, Succeeded at its trial count once the trials of `rows` finished; Katib
    names the lowest loss of any rung optimal."""
    done = [row for row in rows if row[6] is not None]
    optimal = min(done, key=lambda row: float(row[6]))
    suffix, config, rung, learning_rate, r, use_rslora, loss, _ = optimal
    own = str(OWN_STEPS[rung])
    succeeded = katib.condition("Succeeded", "True", *katib.MAX_TRIALS_REACHED, katib.FINISHED_AT)
    status = katib.experiment_status(
        [katib.CREATED, katib.NOT_RUNNING, succeeded],
        completionTime=katib.FINISHED_AT,
        trials=len(rows),
        trialsSucceeded=len(done),
        trialsFailed=len(rows) - len(done),
        succeededTrialList=[f"{katib.NAME}-{row[0]}" for row in done],
        failedTrialList=[f"{katib.NAME}-{row[0]}" for row in rows if row[6] is None],
        currentOptimalTrial={
            "bestTrialName": f"{katib.NAME}-{suffix}",
            "parameterAssignments": [
                {"name": "learning_rate", "value": learning_rate},
                {"name": "r", "value": r},
                {"name": "use_rslora", "value": use_rslora},
                {"name": "hpo_rung", "value": str(rung)},
                {"name": "hpo_config", "value": str(config)},
            ],
            "observation": {
                "metrics": [
                    {"name": "train_loss", "min": loss, "max": "0.69", "latest": loss},
                    {"name": "trained_steps", "min": own, "max": own, "latest": own},
                ]
            },
        },
    )
    return katib.experiment(
        status,
        parameters=_parameters(),
        objective=copy.deepcopy(OBJECTIVE),
        algorithm={
            "algorithmName": "hpo-asha",
            "algorithmSettings": [
                {"name": "rungs", "value": "3"},
                {"name": "reduction_factor", "value": "3"},
                {"name": "sampler", "value": "random"},
            ],
        },
        maxTrialCount=len(rows),
    )
