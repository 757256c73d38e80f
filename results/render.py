"""Text renderings of a result: results.yaml, report.md and the pull request's title and body.

Each is rendered from results.yaml's model (`generator.spec.results_file.ResultsFile`), so the
report says exactly what the file holds. Markdown comes from jinja2 templates in templates/
(StrictUndefined, so a missing field is an error rather than an empty cell), fed a small flat
view-model built here.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from generator.spec.results_file import (
    BestTrial,
    DatasetSource,
    ModelSource,
    ResultsFile,
    Trial,
)
from results.model import Scalar

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
REPORT_TEMPLATE = "report.md.j2"
PR_BODY_TEMPLATE = "pr-body.md.j2"
CHART_FILE = "chart.png"


def format_value(value: Scalar | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value).replace("|", "\\|").replace("\n", " ")


def _objective_value(trial: Trial | BestTrial, metric: str) -> str:
    """The trial's objective as the report shows it; '-' when it reported none, or no number."""
    value = trial.metrics.get(metric)
    return format_value(value if value is None or math.isfinite(value) else None)


def view_model(record: ResultsFile) -> dict[str, Any]:
    metric = record.objective.metric
    best = record.best_trial
    names = sorted({n for t in record.trials for n in t.parameters})
    p = record.provenance
    several = record.objectives or []
    return {
        "experiment": record.experiment,
        "status": record.status,
        "failed": record.status == "Failed",
        "reason": format_value(record.reason) if record.reason else "",
        "metric": metric,
        "objective_type": record.objective.type,
        "goal": format_value(record.objective.goal),
        "has_best": best is not None,
        "best_name": best.name if best else "",
        "best_value": _objective_value(best, metric) if best else "",
        "best_parameters": [
            {"name": k, "value": format_value(best.parameters[k])} for k in sorted(best.parameters)
        ]
        if best
        else [],
        "parameter_names": names,
        "trials": [
            {
                "rank": i,
                "name": t.name,
                "status": t.status,
                "objective": _objective_value(t, metric),
                "cells": [format_value(t.parameters.get(n)) for n in names],
            }
            for i, t in enumerate(record.trials, start=1)
        ],
        "counts": [{"status": s, "count": n} for s, n in record.counts.items()],
        "total": len(record.trials),
        "model_uri": format_value(p.model.uri),
        "model_revision": format_value(p.model.revision),
        "dataset_uri": format_value(p.dataset.uri),
        "dataset_revision": format_value(p.dataset.revision),
        "dataset_split": format_value(p.dataset.split),
        "model_fetched": fetched_text(p.model),
        "dataset_fetched": fetched_text(p.dataset),
        "trainer_image": format_value(p.images.trainer),
        "storage_init_image": format_value(p.images.storage_init),
        "experiment_uid": format_value(p.experiment_uid),
        "definition_sha256": p.definition_sha256,
        "chart": CHART_FILE,
        "budget": budget_line(record),
        "objectives": [{"metric": o.metric, "type": o.type} for o in several],
        "pareto_front": [
            {"name": t.name, "cells": [format_value(t.metrics[o.metric]) for o in several]}
            for t in record.pareto_front or []
        ],
        "warm_start": ""
        if record.warm_start is None
        else f"{record.warm_start.trials} trials from "
        + ", ".join(f"`{s}`" for s in record.warm_start.from_),
        "results_path": f"experiments/{record.experiment}/results.yaml",
        "report_path": f"experiments/{record.experiment}/report.md",
    }


def fetched_text(source: ModelSource | DatasetSource) -> str:
    """The identity in backquotes and the fetch time, or why the marker could not be read."""
    if source.resolved is None:
        return format_value(f"not recorded: {source.unread}" if source.unread else None)
    return f"`{source.resolved}` at {format_value(source.fetched_at)}"


def budget_line(record: ResultsFile) -> str:
    """`9.2 of 10 GPU-hours spent; the budget ended the experiment`, or "" without a budget."""
    budget = record.budget
    if budget is None:
        return ""
    unit = "GPU-hours" if budget.unit == "gpu_hours" else "trial-hours"
    line = f"{format_value(budget.spent)} of {budget.limit:g} {unit} spent"
    return line + ("; the budget ended the experiment" if budget.ended_experiment else "")


def _render(template: str, view: dict[str, Any]) -> str:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Markdown, not HTML
    )
    return environment.get_template(template).render(**view)


def report_markdown(record: ResultsFile) -> str:
    return _render(REPORT_TEMPLATE, view_model(record))


def pr_body(record: ResultsFile) -> str:
    return _render(PR_BODY_TEMPLATE, view_model(record))


def pr_title(record: ResultsFile) -> str:
    if record.status == "Failed":
        return f"HPO results: {record.experiment} FAILED"
    metric = record.objective.metric
    if record.best_trial is None:
        return f"HPO results: {record.experiment} (no trial reported {metric})"
    return (
        f"HPO results: {record.experiment} ({metric}={_objective_value(record.best_trial, metric)})"
    )
