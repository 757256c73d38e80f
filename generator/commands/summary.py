"""The Markdown summary CI posts on an experiment pull request."""

from __future__ import annotations

from pathlib import Path

from generator.checks.cost import budget_gpu_hours, budget_text, worst_case
from generator.commands.immutability import git_show
from generator.commands.project import DefinitionReport
from generator.loading.repo_config import RepoConfig
from generator.rendering.training_view import effective_training_arguments, summary_details


def _change(report: DefinitionReport, root: Path | None, base: str | None) -> str:
    """How the definition differs from the base: new, changed, or unchanged."""
    if base is None:
        return "—"
    old = git_show(root, base, report.loaded.path)
    if old is None:
        return "new"
    return "unchanged" if old == report.loaded.text else "changed"


def write_summary(
    path: Path,
    reports: list[DefinitionReport],
    repo: RepoConfig,
    root: Path | None,
    base: str | None,
) -> None:
    lines = [
        "## Experiments in this change",
        "",
        "| experiment | change | cluster | algorithm | trials (parallel) | GPUs per trial "
        "| peak GPUs | worst-case GPU-hours | budget | check |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    total = 0.0
    details: list[str] = []
    for report in reports:
        spec = report.loaded.spec
        change = _change(report, root, base)
        if spec is None:
            lines.append(f"| `{report.loaded.path}` | {change} | | | | | | | | invalid |")
            continue
        if report.lifecycle.archived:
            stage = report.lifecycle.stage
            lines.append(
                f"| `{spec.name}` | archived ({stage}) | {spec.cluster} | {spec.algorithm_name} "
                f"| | | 0 | | | {'invalid' if report.failed else 'valid'} |"
            )
            continue
        worst = worst_case(spec, repo.clusters.get(spec.cluster))
        gpus, parallel = worst.gpus_per_trial, spec.effective_parallel_trial_count
        # What the experiment can really spend: its worst case, or its budget when lower.
        bound = min(worst.gpu_hours, budget_gpu_hours(spec) or worst.gpu_hours)
        if change != "unchanged":
            total += bound
        if change != "unchanged":
            trainer = spec.trainer_parameters
            arguments = effective_training_arguments(
                trainer.training_parameters, trainer.exact_training_arguments
            )
            details += summary_details(spec.name, arguments)
        status = "invalid" if report.failed else "valid"
        # Under hpo-asha a trial is one rung of a configuration; the deadline bounds a full run.
        per = "trial" if worst.full_runs is None else "full run"
        lines.append(
            f"| `{spec.name}` | {change} | {spec.cluster} | {spec.algorithm_name} "
            f"| {worst.trials} ({parallel}) | {gpus} | {parallel * gpus} "
            f"| {worst.gpu_hours:g} ({worst.hours_per_trial:g} h per {per}) "
            f"| {budget_text(spec)} | {status} |"
        )
    scope = f"new or changed since `{base}`" if base else "all experiments checked"
    lines += ["", f"At most, {scope}: **{total:g} GPU-hours** (worst case or budget)", ""]
    if details:
        lines += ["### Training arguments", "", *details]
    path.write_text("\n".join(lines), encoding="utf-8")
