"""`hpo status`'s output: a plain table per cluster, or the same as JSON (`--format json`).

Both are deterministic: clusters by name (local experiments, then unreadable definitions, last),
experiments by name, every number formatted the same way each time.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from generator.commands.status import (
    ClusterQuota,
    ExperimentStatus,
    Holding,
    StatusReport,
)
from generator.loading.lifecycle import Stage
from generator.loading.repo_config import LOCAL_CLUSTER

LEGEND = {
    "trial_hours": "GPU-hours N (trial-hours x G): the budget's trial-hours times the G GPUs "
    "of each trial",
    "train_runtime": "GPU-hours >= N (train_runtime x G): no budget, so only the trials' "
    "training time is recorded; pod start, model loading and failed trials are not in it",
}


def state_text(experiment: ExperimentStatus) -> str:
    if experiment.state is None:
        return "?"
    text = experiment.state.value
    if experiment.stage is Stage.RELEASE:
        text += f" ({experiment.stage.value})"
    if experiment.unmerged:
        text += " (not merged)"
    unreadable = [PurePosixPath(path).name for path in experiment.unreadable]
    return text + "".join(f", {name} unreadable" for name in unreadable)


def gpus_text(experiment: ExperimentStatus) -> str:
    if experiment.holding is Holding.NONE:
        return "-"
    return f"{experiment.held_gpus} {experiment.holding.value}"


def _gpus(count: int) -> str:
    return f"{count} GPU" + ("" if count == 1 else "s")


def _left(left: int) -> str:
    return f"{left} left" if left >= 0 else f"{-left} over the quota"


def quota_line(quota: ClusterQuota) -> str:
    if quota.name == LOCAL_CLUSTER:
        return (
            f"{LOCAL_CLUSTER}: run by hpo tune --local on one machine (running = merged); no quota"
        )
    if quota.gpu_quota is None:
        return f"{quota.name}: no quota: not a valid cluster of argocd/clusters.yaml"
    held = f"{_gpus(quota.held)} held" if quota.held else "none held"
    if quota.once_merged:
        return (
            f"{quota.name}: gpu_quota {quota.gpu_quota}; {held}, {quota.once_merged} more once "
            f"merged; {_left(quota.left)}, {_left(quota.left_once_merged)} once merged"
        )
    return f"{quota.name}: gpu_quota {quota.gpu_quota}; {held}; {_left(quota.left)}"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _group(title: str, experiments: list[ExperimentStatus], read: bool) -> list[str]:
    lines = [title]
    if not experiments:
        return lines + ["  (no experiments)"]
    header = ["EXPERIMENT", "STATE", "GPUS", "GPU-HOURS"] + (["ON THE CLUSTER"] if read else [])
    rows = [header]
    for e in experiments:
        row = [e.name, state_text(e), gpus_text(e), str(e.gpu_hours or "-")]
        rows.append(row + ([str(e.on_cluster or "-")] if read else []))
    return lines + _table(rows)


def _title(report: StatusReport) -> list[str]:
    lines = [
        f"hpo status at {report.ref}: running = deployed there, proposed = not merged there yet"
    ]
    if report.read_cluster is not None:
        through = f" through kubeconfig context '{report.context}'" if report.context else ""
        lines.append(
            f"The cluster {report.read_cluster} was read{through}; the others from Git only"
        )
    return lines


def format_table(report: StatusReport) -> str:
    lines = _title(report)
    groups = [q for q in report.quotas if q.name != LOCAL_CLUSTER]
    groups += [q for q in report.quotas if q.name == LOCAL_CLUSTER]
    for quota in groups:
        read = quota.name == report.read_cluster
        lines += [""] + _group(quota_line(quota), report.on(quota.name), read)
    if report.strays:
        lines += [
            "",
            f"on {report.read_cluster}, not in Git (a folder deleted instead of archived "
            "leaves its objects; docs/lifecycle.md):",
        ]
        lines += [f"  {ns}/{name}  {condition}" for ns, name, condition in report.strays]
    unreadable = report.on(None)
    if unreadable:
        lines += ["", "definitions that cannot be read:"]
        lines += [f"  {e.name}" for e in unreadable]
    bases = {e.gpu_hours.basis for e in report.experiments if e.gpu_hours is not None}
    notes = [text for basis, text in LEGEND.items() if basis in bases]
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def _experiment(e: ExperimentStatus) -> dict[str, Any]:
    return {
        "name": e.name,
        "cluster": e.cluster,
        "namespace": e.namespace,
        "state": e.state.value if e.state is not None else None,
        "archive_stage": e.stage.value if e.stage is not None else None,
        "gpus": e.demand.gpus if e.demand is not None else None,
        "holding": e.holding.value,
        "gpu_hours": None
        if e.gpu_hours is None
        else {
            "value": e.gpu_hours.value,
            "basis": e.gpu_hours.basis,
            "gpus_per_trial": e.gpu_hours.gpus_per_trial,
            "lower_bound": e.gpu_hours.lower_bound,
        },
        "unreadable": list(e.unreadable),
        "on_cluster": None
        if e.on_cluster is None
        else {"condition": e.on_cluster.condition, "note": e.on_cluster.note},
    }


def format_json(report: StatusReport) -> str:
    document = {
        "ref": {"name": report.ref.name, "commit": report.ref.commit},
        "read_cluster": report.read_cluster,
        "context": report.context,
        "clusters": [
            {
                "name": q.name,
                "gpu_quota": q.gpu_quota,
                "held": q.held,
                "once_merged": q.once_merged,
                "left": q.left,
                "left_once_merged": q.left_once_merged,
            }
            for q in report.quotas
        ],
        "experiments": [_experiment(e) for e in report.experiments],
        "strays": [
            {"namespace": ns, "name": name, "condition": condition}
            for ns, name, condition in report.strays
        ],
        "problems": [str(p) for p in report.problems],
    }
    return json.dumps(document, indent=2) + "\n"
