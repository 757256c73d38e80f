"""The Markdown summary CI posts on an experiment pull request."""

from __future__ import annotations

from pathlib import Path

from generator.immutability import git_show
from generator.project import DefinitionReport, worst_case_gpu_hours
from generator.repo_config import RepoConfig


def _change(report: DefinitionReport, root: Path, base: str | None) -> str:
    """How the definition differs from the base: new, changed, or unchanged."""
    if base is None:
        return "—"
    old = git_show(root, base, report.loaded.path)
    if old is None:
        return "new"
    return "unchanged" if old == report.loaded.text else "changed"


def write_summary(
    path: Path, reports: list[DefinitionReport], repo: RepoConfig, root: Path, base: str | None
) -> None:
    lines = [
        "## Experiments in this change",
        "",
        "| experiment | change | cluster | algorithm | trials (parallel) | GPUs per trial "
        "| peak GPUs | worst-case GPU-hours | check |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    total = 0.0
    for report in reports:
        spec = report.loaded.spec
        change = _change(report, root, base)
        if spec is None:
            lines.append(f"| `{report.loaded.path}` | {change} | | | | | | | invalid |")
            continue
        trials, gpus, hours, gpu_hours = worst_case_gpu_hours(report, repo)
        parallel = spec.effective_parallel_trial_count
        if change != "unchanged":
            total += gpu_hours
        status = "invalid" if report.failed else "valid"
        lines.append(
            f"| `{spec.name}` | {change} | {spec.cluster} | {spec.algorithm_name} "
            f"| {trials} ({parallel}) | {gpus} | {parallel * gpus} "
            f"| {gpu_hours:g} ({hours:g} h per trial) | {status} |"
        )
    scope = f"new or changed since `{base}`" if base else "all experiments checked"
    lines += ["", f"Worst case, {scope}: **{total:g} GPU-hours**", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
