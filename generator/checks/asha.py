"""`hpo-asha` in a definition: what it refuses, what its trials may cost, what its checkpoints take.

Successive halving (suggestion.asha) counts trials, not configurations: each trial trains one
configuration at one rung, resuming the rung below from a checkpoint on the experiment's volume.
So the worst case of `max_trial_count` trials is a mix of short and long trials bounded by the
promotion rule, and the volume holds checkpoints as well as the download cache. The rung rule
itself is the trainer's (`trainer.rungs`); the settings' rules and defaults are the suggestion
service's (`suggestion.settings`, `suggestion.asha.Plan`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from fractions import Fraction

from generator.checks.algorithms import GENERATED
from generator.spec import CategoricalSearch, DiscreteSearch, ExperimentSpec, IntSearch, is_search
from suggestion.asha import RESERVED, Plan
from suggestion.settings import ASHA, setting_problems
from suggestion.space import katib_text
from trainer import rungs as rung_rule

Finding = tuple[tuple, str, str]

# What one checkpoint holds is what resuming needs: the LoRA weights, kept in fp32 by the trainer,
# and Adam's two fp32 moments of each (3 x 4 bytes per trainable parameter); the scheduler, RNG
# and data position add kilobytes. How many parameters LoRA trains depends on the model, which
# `hpo check` never downloads, so the estimate assumes an 8B Llama (32 layers, hidden size 4096,
# 1024 for keys and values, 14336 in the MLP). Rank r on the query and value projections, the
# trainer's default targets, trains (8192 + 5120) * 32 * r parameters; a definition that sets
# target_modules may target every linear layer (q, k, v, o, gate, up and down): 81920 * 32 * r.
# Smaller models take less; larger ones should set storage_config.size.
BYTES_PER_TRAINABLE_PARAMETER = 12
TRAINABLE_PER_RANK_DEFAULT_TARGETS = 13_312 * 32
TRAINABLE_PER_RANK_ANY_TARGETS = 81_920 * 32
PEFT_DEFAULT_RANK = 8  # peft.LoraConfig's r
# What the volume holds besides checkpoints when the definition does not size it (its default).
CACHE_SIZE_GIB = 10
GIB = 2**30
_QUANTITY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def plan_of(spec: ExperimentSpec) -> Plan | None:
    """The rungs and reduction factor the service will use (its defaults filled in); None when
    the algorithm is another, or when these settings are refused (check_algorithm says why)."""
    if spec.algorithm_name != ASHA:
        return None
    given = {k: katib_text(v) for k, v in spec.algorithm_settings.items() if k not in GENERATED}
    refused = {name for name, _ in setting_problems(ASHA, given, continuous=0, objectives=1)}
    if refused & {"reduction_factor", "rungs"}:
        return None
    return Plan.of(given)


def rung_shares(plan: Plan) -> tuple[Fraction, ...]:
    """What a trial at each rung trains, as a share of a full run: rung k continues where rung
    k-1 stopped, so it trains fraction(k) - fraction(k-1) of the full run's steps."""
    fractions = [
        rung_rule.fraction(k, plan.rungs, plan.reduction_factor) for k in range(plan.rungs)
    ]
    return tuple(
        f - below for f, below in zip(fractions, [Fraction(0), *fractions[:-1]], strict=True)
    )


def worst_trial_mix(trials: int, plan: Plan) -> tuple[int, ...]:
    """The trials per rung (lowest first) that cost the most among all that successive halving
    can create with `trials` trials.

    The policy promotes a configuration one rung up only from the top 1/eta of that rung's
    results, once per configuration and rung: with x_k trials at rung k, x_(k+1) <= x_k // eta
    (a failed trial has no result, so fewer may be promoted, never more). A trial costs its rung's
    share of a full run, and the shares grow with the rung (eta - 1 times rung 0's at rung 1, then
    eta times more per rung). Moving one trial from rung k up to rung k+1 is allowed whenever
    x_(k+1) + 1 <= (x_k - 1) // eta, and never lowers the cost; so some mix of the highest cost
    has, at every rung, x_(k+1) equal to x_k // eta or (x_k - 1) // eta. Those mixes are few
    (the two differ only when eta divides x_k): every one of them is tried.
    """
    eta = plan.reduction_factor
    # The shares times eta**(R-1), so the sums are exact integers.
    weights = [s.numerator * (eta ** (plan.rungs - 1) // s.denominator) for s in rung_shares(plan)]
    best: tuple[int, tuple[int, ...]] = (-1, ())

    def extend(mix: tuple[int, ...], used: int, cost: int) -> None:
        nonlocal best
        if used > trials:
            return
        if len(mix) == plan.rungs or mix[-1] == 0:
            if used == trials:
                best = max(best, (cost, mix + (0,) * (plan.rungs - len(mix))))
            return
        last, k = mix[-1], len(mix)
        for x in {last // eta, (last - 1) // eta}:
            extend((*mix, x), used + x, cost + weights[k] * x)

    for first in range(trials + 1):
        extend((first,), first, weights[0] * first)
    return best[1]


def worst_case_full_runs(trials: int, plan: Plan) -> Fraction:
    """What `trials` trials cost at most, counted in full runs (exact)."""
    mix = worst_trial_mix(trials, plan)
    return sum((s * x for s, x in zip(rung_shares(plan), mix, strict=True)), Fraction(0))


def trials_to_reach_top(plan: Plan) -> int:
    """The fewest trials that bring one configuration to the top rung: eta**k results at rung
    R-1-k for every k (the configuration itself among them)."""
    return sum(plan.reduction_factor**k for k in range(plan.rungs))


def checkpoint_bytes(spec: ExperimentSpec) -> int:
    """One configuration's checkpoint, estimated for the largest LoRA rank the definition allows
    and the layers it targets (see BYTES_PER_TRAINABLE_PARAMETER for the model it assumes)."""
    lora = spec.trainer_parameters.lora_config
    targets_set = "target_modules" in lora or "target_parameters" in lora
    per_rank = TRAINABLE_PER_RANK_ANY_TARGETS if targets_set else TRAINABLE_PER_RANK_DEFAULT_TARGETS
    r = lora.get("r", PEFT_DEFAULT_RANK)
    if isinstance(r, IntSearch):
        rank = r.max
    elif isinstance(r, CategoricalSearch | DiscreteSearch):
        rank = max((v for v in r.values if isinstance(v, int | float)), default=PEFT_DEFAULT_RANK)
    else:
        rank = r if isinstance(r, int | float) and not is_search(r) else PEFT_DEFAULT_RANK
    return int(rank * per_rank * BYTES_PER_TRAINABLE_PARAMETER)


def max_checkpoints(spec: ExperimentSpec) -> int:
    """The most checkpoints the volume holds at once: max_trial_count.

    A trial below the top rung leaves one checkpoint of its configuration, and the trial that
    resumes it removes it once its own is saved: a configuration holds one checkpoint (two while
    a promoted trial runs, but that trial is then one trial fewer at rung 0), and the top rung
    saves none. With every trial at rung 0, each of max_trial_count configurations keeps one.
    """
    return spec.max_trial_count or 0


def checkpoint_gib(spec: ExperimentSpec) -> int:
    """The volume space checkpoints may take at once, in whole GiB (rounded up)."""
    return math.ceil(max_checkpoints(spec) * checkpoint_bytes(spec) / GIB)


def quantity_bytes(text: str) -> float:
    """A Kubernetes storage quantity (`50Gi`, `100G`, `1.5Ti`) in bytes."""
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", text).groups()
    return float(number) * _QUANTITY_UNITS.get(unit, 1)


def volume_size(spec: ExperimentSpec) -> str:
    """The size of the volume the experiment's claim asks for: the definition's own size, else
    the default cache size plus, under hpo-asha, what checkpoints may take at once."""
    storage = spec.storage_config
    if "size" in storage.model_fields_set or spec.algorithm_name != ASHA:
        return storage.size
    return f"{CACHE_SIZE_GIB + checkpoint_gib(spec)}Gi"


def storage_text(spec: ExperimentSpec) -> str:
    """One line for hpo check's summary: the volume, and the checkpoints' share of it."""
    storage = spec.storage_config
    volume = (
        f"existing claim {storage.existing_claim}"
        if storage.existing_claim is not None
        else f"volume {volume_size(spec)}"
    )
    each = checkpoint_bytes(spec) / 2**20
    return (
        f"{volume}; hpo-asha checkpoints up to {checkpoint_gib(spec)} GiB at once "
        f"({max_checkpoints(spec)} configurations x {each:.0f} MiB, estimated for an 8B model; "
        "set storage_config.size to size the volume yourself)"
    )


def check_asha(spec: ExperimentSpec) -> Iterator[Finding]:
    """What hpo-asha cannot do with this definition, each at the key to change."""
    if spec.algorithm_name != ASHA:
        return
    if spec.objectives is not None:
        yield (
            ("objectives",),
            "objectives: hpo-asha promotes a configuration by its rank among one rung's results, "
            "which needs one objective: use objective_metric_name and objective_type",
            "error",
        )
    if spec.objective_goal is not None:
        yield (
            ("objective_goal",),
            "objective_goal: under hpo-asha a lower rung's value could reach the goal and end the "
            "experiment before any configuration is trained in full: remove objective_goal",
            "error",
        )
    if spec.early_stopping is not None:
        yield (
            ("early_stopping",),
            "early_stopping: hpo-asha stops configurations itself (only the best of each rung "
            "go on): remove early_stopping",
            "error",
        )
    if spec.max_trial_count is None:
        yield (
            ("max_trial_count",),
            "max_trial_count: hpo-asha needs it: it numbers configurations up to it",
            "error",
        )
    for name, (section, _) in spec.search_spaces().items():
        if name in RESERVED:
            key = "training_parameters" if section == "training" else "lora_config"
            yield (
                ("trainer_parameters", key, name),
                f"trainer_parameters.{key}.{name}: hpo-asha adds a parameter of this name to "
                "the Experiment itself (the rung, the configuration): rename this one",
                "error",
            )
    objective = spec.primary_metric
    strategy = spec.metric_strategies.get(objective)
    if strategy not in (None, "latest"):
        yield (
            ("metric_strategies", objective),
            f"metric_strategies.{objective}: hpo-asha ranks each trial by the value it reports "
            f"at its rung's last step, so the objective's strategy is latest, not {strategy}",
            "error",
        )
    yield from _check_trials(spec)
    yield from _check_volume(spec)


def _check_trials(spec: ExperimentSpec) -> Iterator[Finding]:
    plan = plan_of(spec)
    if plan is None or spec.max_trial_count is None or spec.max_trial_count <= 0:
        return
    needed = trials_to_reach_top(plan)
    if spec.max_trial_count < needed:
        yield (
            ("max_trial_count",),
            f"max_trial_count: {spec.max_trial_count} trials cannot bring a configuration to "
            f"the top rung, where hpo-asha takes the best trial from: that needs {needed} trials "
            f"(rungs {plan.rungs}, reduction_factor {plan.reduction_factor}); raise "
            "max_trial_count or lower rungs",
            "error",
        )


def _check_volume(spec: ExperimentSpec) -> Iterator[Finding]:
    storage = spec.storage_config
    if "size" not in storage.model_fields_set or spec.max_trial_count is None:
        return
    needed = checkpoint_gib(spec)
    if quantity_bytes(storage.size) < needed * GIB:
        yield (
            ("storage_config", "size"),
            f"storage_config.size: {storage.size} is less than the {needed} GiB hpo-asha's "
            "checkpoints may take at once, besides the model and dataset (docs/definition.md, "
            "hpo-asha)",
            "warning",
        )
