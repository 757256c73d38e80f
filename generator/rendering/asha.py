"""What `hpo-asha` adds to the rendered Experiment, so Katib runs it as it is.

Katib creates trials from the assignments a suggestion service returns and keeps nothing else
for it, so the rungs travel in two parameters the policy sets (suggestion.asha): RUNG_PARAMETER,
the rung a trial trains to, and CONFIG_PARAMETER, the configuration it continues. Both are
parameters and trial parameters of the Experiment, and the trial command passes them to the
trainer's rung flags (docs/interfaces.md). The objective is read as its latest report, the value
at the rung's last step that promotion ranks, and every trial reports the steps it ran itself.

Checkpoints live on the experiment's volume under `checkpoints/<experiment>/config-<id>/`: the
experiment's name keeps experiments that share a claim (storage_config.existing_claim) apart.
"""

from __future__ import annotations

from generator.spec import ExperimentSpec
from suggestion.asha import CONFIG_PARAMETER, RUNG_PARAMETER, Plan
from suggestion.space import Parameter
from trainer.catalog import TRAINED_STEPS

# The experiments' checkpoints, relative to the volume's root.
CHECKPOINTS = "checkpoints"


def checkpoints_path(workspace: str, experiment: str) -> str:
    """The folder of one experiment's checkpoints on the volume mounted at `workspace`."""
    return f"{workspace}/{CHECKPOINTS}/{experiment}"


def rung_parameters(spec: ExperimentSpec, plan: Plan) -> list[Parameter]:
    """The two parameters the policy sets: the rungs "0".."R-1" (strings, as the trainer's
    --rung reads them), and configuration ids 0..max_trial_count-1 (each new configuration
    takes at least one trial)."""
    assert spec.max_trial_count is not None  # hpo check refuses hpo-asha without it
    return [
        Parameter(RUNG_PARAMETER, "categorical", values=tuple(str(k) for k in range(plan.rungs))),
        Parameter(CONFIG_PARAMETER, "int", 0, spec.max_trial_count - 1),
    ]


def rung_args(spec: ExperimentSpec, plan: Plan, workspace: str) -> list[str]:
    """The trainer's rung flags: each trial stops at its rung's step and resumes, and leaves,
    its configuration's checkpoints."""
    folder = checkpoints_path(workspace, spec.name)
    return [
        "--rung",
        f"${{trialParameters.{RUNG_PARAMETER}}}",
        "--rungs",
        str(plan.rungs),
        "--reduction-factor",
        str(plan.reduction_factor),
        "--checkpoint-dir",
        f"{folder}/config-${{trialParameters.{CONFIG_PARAMETER}}}",
    ]


def objective_metrics(spec: ExperimentSpec) -> tuple[list[str], dict[str, str]]:
    """The additional metric names and every metric's strategy under hpo-asha: the objective's
    latest report (hpo check refuses another strategy for it), and the steps each trial ran."""
    names = list(spec.katib_additional_metrics)
    if TRAINED_STEPS not in names:
        names.append(TRAINED_STEPS)
    strategies = {
        **spec.effective_metric_strategies,
        spec.primary_metric: "latest",
    }
    strategies.setdefault(TRAINED_STEPS, "latest")
    return names, strategies
