"""The Markdown summary CI posts on an experiment pull request."""

from __future__ import annotations

from pathlib import Path

from generator.project import DefinitionReport, worst_case_gpu_hours
from generator.repo_config import RepoConfig


def write_summary(
    path: Path, reports: list[DefinitionReport], repo: RepoConfig, base: str | None
) -> None:
    lines = [
        "## Experiments in this change",
        "",
        "| experiment | cluster | algorithm | trials (parallel) | GPUs per trial | peak GPUs "
        "| worst-case GPU-hours | status |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    total = 0.0
    for report in reports:
        spec = report.loaded.spec
        if spec is None:
            lines.append(f"| `{report.loaded.path}` | | | | | | | invalid |")
            continue
        trials, gpus, hours, gpu_hours = worst_case_gpu_hours(report, repo)
        parallel = spec.parallel_trial_count or 3
        total += gpu_hours
        status = "invalid" if report.failed else "valid"
        lines.append(
            f"| `{spec.name}` | {spec.cluster} | {spec.algorithm_name} | {trials} ({parallel}) "
            f"| {gpus} | {parallel * gpus} | {gpu_hours:g} ({hours:g} h per trial) | {status} |"
        )
    lines += [
        "",
        f"Worst case in total: **{total:g} GPU-hours**"
        + (f" (compared with `{base}`)" if base else ""),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
