"""Text renderings of a result: results.yaml, report.md and the pull request's title and body.

Markdown comes from jinja2 templates in templates/ (StrictUndefined, so a missing field is an
error rather than an empty cell), fed a small flat view-model built here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from results.model import ExperimentResult, Fetched, Scalar, objective_value, to_document

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
REPORT_TEMPLATE = "report.md.j2"
PR_BODY_TEMPLATE = "pr-body.md.j2"
CHART_FILE = "chart.png"


def results_yaml(result: ExperimentResult, definition_sha256: str) -> str:
    return yaml.safe_dump(
        to_document(result, definition_sha256),
        sort_keys=False,  # the documented key order, built in to_document
        default_flow_style=False,
        allow_unicode=True,
        width=4096,  # never fold a long reason or image name across lines
    )


def format_value(value: Scalar | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value).replace("|", "\\|").replace("\n", " ")


def view_model(result: ExperimentResult, definition_sha256: str) -> dict[str, Any]:
    objective = result.objective
    best = result.best_trial
    names = sorted({n for t in result.trials for n in t.parameters})
    p = result.provenance
    return {
        "experiment": result.experiment,
        "status": result.status,
        "failed": result.failed,
        "reason": format_value(result.reason) if result.reason else "",
        "metric": objective.metric,
        "objective_type": objective.type,
        "goal": format_value(objective.goal),
        "has_best": best is not None,
        "best_name": best.name if best else "",
        "best_value": format_value(objective_value(best, objective)) if best else "",
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
                "objective": format_value(objective_value(t, objective)),
                "cells": [format_value(t.parameters.get(n)) for n in names],
            }
            for i, t in enumerate(result.trials, start=1)
        ],
        "counts": [{"status": s, "count": n} for s, n in result.counts.items()],
        "total": len(result.trials),
        "model_uri": format_value(p.model_uri),
        "model_revision": format_value(p.model_revision),
        "dataset_uri": format_value(p.dataset_uri),
        "dataset_revision": format_value(p.dataset_revision),
        "dataset_split": format_value(p.dataset_split),
        "model_fetched": fetched_text(p.model_fetched),
        "dataset_fetched": fetched_text(p.dataset_fetched),
        "trainer_image": format_value(p.trainer_image),
        "storage_init_image": format_value(p.storage_init_image),
        "experiment_uid": format_value(p.experiment_uid),
        "definition_sha256": definition_sha256,
        "chart": CHART_FILE,
        "budget": budget_line(result),
        "objectives": [{"metric": o.metric, "type": o.type} for o in result.objectives],
        "pareto_front": [
            {
                "name": t.name,
                "cells": [format_value(t.metrics[o.metric]) for o in result.objectives],
            }
            for t in result.pareto_front
        ],
        "warm_start": ""
        if result.warm_start is None
        else f"{result.warm_start.trials} trials from "
        + ", ".join(f"`{s}`" for s in result.warm_start.sources),
        "results_path": f"experiments/{result.experiment}/results.yaml",
        "report_path": f"experiments/{result.experiment}/report.md",
    }


def fetched_text(fetched: Fetched) -> str:
    """The identity in backquotes and the fetch time, or why the marker could not be read."""
    if fetched.resolved is None:
        return format_value(f"not recorded: {fetched.unread}" if fetched.unread else None)
    return f"`{fetched.resolved}` at {format_value(fetched.fetched_at)}"


def budget_line(result: ExperimentResult) -> str:
    """`9.2 of 10 GPU-hours spent; the budget ended the experiment`, or "" without a budget."""
    budget = result.budget
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


def report_markdown(result: ExperimentResult, definition_sha256: str) -> str:
    return _render(REPORT_TEMPLATE, view_model(result, definition_sha256))


def pr_body(result: ExperimentResult, definition_sha256: str) -> str:
    return _render(PR_BODY_TEMPLATE, view_model(result, definition_sha256))


def pr_title(result: ExperimentResult) -> str:
    if result.failed:
        return f"HPO results: {result.experiment} FAILED"
    best = result.best_trial
    if best is None:
        return f"HPO results: {result.experiment} (no trial reported {result.objective.metric})"
    value = format_value(objective_value(best, result.objective))
    return f"HPO results: {result.experiment} ({result.objective.metric}={value})"
