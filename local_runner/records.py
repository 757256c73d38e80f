"""Finished trials as the scheduler and the results writer see them, saved in the study.

A trial's Katib status, observed metrics and parameters are Optuna user attributes (names in
local_runner.study); this module reads them back, so a resumed run starts from what was saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from local_runner import study as keys


@dataclass(frozen=True)
class FinishedTrial:
    number: int
    name: str
    status: str
    assignments: dict[str, str]
    metrics: dict[str, float]  # the reports that count, by metric strategy
    series: list[float]  # the objective's reports, in order
    seconds: float
    interrupted: bool = False
    completed_at: str | None = None  # RFC 3339, UTC
    extremes: dict[str, list[float]] = field(default_factory=dict)  # [latest, min, max]


def rfc3339(moment: datetime | None) -> str | None:
    """Optuna stores naive local times; results want UTC."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finished_from_study(study) -> list[FinishedTrial]:
    from optuna.trial import TrialState

    done = []
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.RUNNING, TrialState.WAITING) or keys.STATUS not in t.user_attrs:
            continue
        done.append(
            FinishedTrial(
                number=t.number,
                name=t.user_attrs[keys.NAME],
                status=t.user_attrs[keys.STATUS],
                assignments=dict(t.user_attrs.get(keys.ASSIGNMENTS, {})),
                metrics=dict(t.user_attrs.get(keys.METRICS, {})),
                series=[t.intermediate_values[s] for s in sorted(t.intermediate_values)],
                seconds=float(t.user_attrs.get(keys.SECONDS, 0.0)),
                interrupted=bool(t.user_attrs.get(keys.INTERRUPTED, False)),
                completed_at=rfc3339(t.datetime_complete),
                extremes=dict(t.user_attrs.get(keys.EXTREMES, {})),
            )
        )
    return done
