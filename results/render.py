"""Text renderings of a result: results.yaml, report.md and the pull request's title and body.

Each is rendered from results.yaml's model (`generator.spec.results_file.ResultsFile`), so the
report says exactly what the file holds. Markdown comes from jinja2 templates in templates/
(StrictUndefined, so a missing field is an error rather than an empty cell), fed a small flat
view-model built here.

Under hpo-asha the report also follows each configuration through the rungs, and sets what the
trials trained against what full runs of the same configurations would have trained.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from generator.spec.results_file import (
    BestTrial,
    DatasetSource,
    ModelSource,
    ResultsFile,
    RungsRecord,
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


def _steps(value: int | None) -> str:
    return "-" if value is None else str(value)


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
                "config": format_value(t.config),
                "rung": format_value(t.rung),
                "steps": _steps(t.trained_steps),
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
        **rung_view(record, names),
    }


def rung_view(record: ResultsFile, names: list[str]) -> dict[str, Any]:
    """The hpo-asha part of the view: the rungs, what training cost against full runs, and
    each configuration's path (empty for any other algorithm)."""
    rungs = record.rungs
    if rungs is None:
        return {"asha": False, "rungs": "", "training": "", "rung_names": [], "paths": []}
    return {
        "asha": True,
        "rungs": f"{rungs.count}, each {rungs.reduction_factor} times the steps of the one "
        f"below; the best trial is taken from the top rung ({rungs.top})",
        "training": training_line(record, rungs),
        "rung_names": [f"rung {k}" for k in range(rungs.count)],
        "paths": _paths(record, rungs, names),
    }


def training_line(record: ResultsFile, rungs: RungsRecord) -> str:
    """What the trials trained against full runs of the same configurations, in words."""
    trained, n = rungs.trained_steps, rungs.configurations
    full = rungs.full_runs_steps
    if full is None or rungs.full_run_steps is None:
        why = (
            "the configurations that reached the top rung trained different numbers of steps "
            "(the search changes the length of a full run), or did not report them"
            if any(t.rung == rungs.top for t in record.trials)
            else "no configuration reached the top rung"
        )
        return (
            f"The trials trained {trained} optimizer steps, over {n} configurations; what full "
            f"runs of them would have trained is unknown: {why}."
        )
    saved = 1 - trained / full if full else 0.0
    change = f"{saved:.0%} fewer" if saved >= 0 else f"{-saved:.0%} more"
    return (
        f"The trials trained **{trained}** optimizer steps; full runs of the same {n} "
        f"configurations would have trained **{full}** ({n} × {rungs.full_run_steps}, the "
        f"steps of a configuration that climbed every rung, its rungs added up): {change}."
    )


def _paths(record: ResultsFile, rungs: RungsRecord, names: list[str]) -> list[dict[str, Any]]:
    """One row per configuration: its value at each rung it reached, its steps, where it
    stopped; the configurations that climbed highest first, then by their value there."""
    metric = record.objective.metric
    sign = 1 if record.objective.type == "minimize" else -1
    best = record.best_trial.name if record.best_trial else None
    by_config: dict[int, dict[int, Trial]] = defaultdict(dict)
    for t in record.trials:  # the best of a rung first, should a rung have two
        if t.config is not None and t.rung is not None:
            by_config[t.config].setdefault(t.rung, t)

    def row(config: int, path: dict[int, Trial]) -> tuple[tuple, dict[str, Any]]:
        last = path[max(path)]
        value = last.metrics.get(metric)
        finite = value is not None and math.isfinite(value)
        cells = []
        for k in range(rungs.count):
            trial = path.get(k)
            if trial is None:
                cells.append("")
                continue
            shown = _objective_value(trial, metric)
            if shown == "-":
                shown = trial.status
            cells.append(f"**{shown}**" if trial.name == best else shown)
        if last.status not in ("Succeeded", "EarlyStopped"):
            stopped = f"rung {last.rung}: {last.status}"
        elif last.rung == rungs.top:
            stopped = "top rung"
        else:
            stopped = f"rung {last.rung}"
        steps = [t.trained_steps for t in path.values()]
        order = (-last.rung, 0 if finite else 1, sign * value if finite else 0.0, config)
        return order, {
            "config": config,
            "cells": cells,
            "steps": _steps(None if None in steps else sum(steps)),
            "stopped": stopped,
            "parameters": [format_value(last.parameters.get(n)) for n in names],
        }

    rows = [row(config, path) for config, path in by_config.items()]
    return [view for _, view in sorted(rows, key=lambda r: r[0])]


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
