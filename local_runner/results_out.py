"""The finished run as results.yaml and report.md, through the cluster results job's own code.

Parameters are typed by the definition's search space (results.definition, results.params) and
the trials ranked and counted by results.model, so both paths write the same file for the same
trials. Trials that Ctrl-C interrupted and a later run repeated are left out.
"""

from __future__ import annotations

from pathlib import Path

from generator.loading.definition import DefinitionRecord
from local_runner.plan import LocalPlan
from local_runner.records import FinishedTrial


def experiment_result(
    plan: LocalPlan,
    status: str,
    reason: str | None,
    finished: list[FinishedTrial],
    definition: DefinitionRecord,
    *,
    budget_ended: bool = False,
    cache_dir: Path | None = None,
):
    """The run's result; provenance reads what the inputs resolved to from the markers under
    `cache_dir`, the cache the local download step fetched into."""
    from results.budget import BudgetRule, TrialTime, account, outcome, rung_of
    from results.definition import (
        asha_plan,
        objectives,
        provenance,
        search_space,
        warm_start_record,
    )
    from results.model import MetricObservation, Objective, TrialResult, build_result
    from results.params import placement, typed_parameters

    space = search_space(definition.spec)
    asha = asha_plan(definition.spec)
    trials = [
        TrialResult(
            name=t.name,
            status=t.status,
            parameters=typed_parameters(t.assignments, space),
            metrics=dict(t.metrics),
            completed_at=t.completed_at,
            observation={name: MetricObservation(*values) for name, values in t.extremes.items()},
            placement=placement(t.assignments, asha is not None, t.name),
        )
        for t in finished
        if not t.interrupted
    ]
    rule = BudgetRule.of(definition.spec)
    budget = None
    if rule is not None:
        # Interrupted ones spent too.
        times = [TrialTime(0.0, t.seconds, rung_of(t.assignments)) for t in finished]
        budget = outcome(account(rule, times, now=0.0), budget_ended)
    return build_result(
        experiment=plan.name,
        status=status,
        reason=reason if status == "Failed" else None,
        objective=Objective(plan.objective_metric, plan.objective_type, plan.goal),
        trials=trials,
        provenance=provenance(definition.spec, cache_dir=cache_dir),
        budget=budget,
        objectives=objectives(definition.spec),
        warm_start=warm_start_record(definition.spec, plan.algorithm_settings),
        asha=asha,
        space=space,
    )


def write(experiment_dir: Path, result, definition: DefinitionRecord) -> list[Path]:
    from results.files import write_results

    return write_results(experiment_dir, result, definition.sha256)
