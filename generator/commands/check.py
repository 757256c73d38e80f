"""What `hpo check` does, once the CLI has parsed it: every input checked, every problem printed."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.checks.asha import storage_text
from generator.checks.cost import budget_text, worst_case
from generator.checks.secrets import redact
from generator.commands.manifest_check import check_manifest_text, is_manifest
from generator.commands.project import (
    DEFINITION_FILE,
    DefinitionReport,
    check_loaded,
    check_repository_wide,
    definition_paths,
    display,
    find_root_or_none,
    folder_name_of,
)
from generator.errors import ExitCode, HpoError, Problem
from generator.loading.definition import parse_definition
from generator.loading.repo_config import RepoConfig, load_repo_config
from generator.loading.yamlload import YamlProblems, load_located_all
from generator.rendering.training_view import check_lines, effective_training_arguments
from suggestion.settings import ASHA


def print_problems(problems: list[Problem]) -> tuple[int, int]:
    errors = sorted({p for p in problems if p.is_error})
    warnings = sorted({p for p in problems if not p.is_error})
    for problem in errors + warnings:
        print(redact(str(problem)), file=sys.stderr)
    return len(errors), len(warnings)


def summary_line(errors: int, warnings: int, checked: int, what: str) -> str:
    status = "failed" if errors else "ok"
    return f"hpo {what}: {status}: {checked} file(s), {errors} error(s), {warnings} warning(s)"


STDIN = "-"
STDIN_NAME = "<stdin>"
OUTSIDE = (
    "checked without the hpo repository (no templates/ and images.yaml above the current "
    "folder): skipped the cluster checks (argocd/clusters.yaml: the cluster's name, GPU quota "
    "and GPU-hour limit), the folder name, and rendering with templates/ and validating what it "
    "renders; run hpo check inside the repository for those"
)


class CheckUsageError(HpoError):
    exit_code = ExitCode.USAGE


@dataclass
class Input:
    """A file given to hpo check (or standard input): what it says, or why it cannot be read."""

    shown: str  # as printed in problems
    path: Path | None  # None for standard input
    text: str | None = None
    problem: Problem | None = None


def _classify(text: str, shown: str) -> str:
    """'definition' or 'manifest', by what the text holds: a Kubernetes object is a manifest
    whatever the file is called; a definition is one document (in a file named experiment.yaml,
    or holding model_provider_parameters)."""
    named_like_a_definition = Path(shown).name == DEFINITION_FILE
    try:
        documents = load_located_all(text, shown)
    except YamlProblems:
        # Whichever check runs reports the syntax error with its position.
        return "definition" if named_like_a_definition else "manifest"
    if any(is_manifest(doc.data) for doc in documents):
        return "manifest"
    data = documents[0].data
    if (
        named_like_a_definition
        or len(documents) == 1
        and isinstance(data, dict)
        and ("model_provider_parameters" in data)
    ):
        return "definition"
    return "manifest"


def _read(given: Path, shown: str) -> Input:
    if not given.exists():
        return Input(shown, given, problem=Problem(shown, 1, 1, "no such file or directory"))
    try:
        return Input(shown, given, given.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return Input(shown, given, problem=Problem(shown, 1, 1, f"cannot read: {e}"))


def _inputs(paths: list[str], root: Path | None) -> list[Input]:
    if not paths:
        return [_read(p, display(p, root)) for p in definition_paths(root)]
    inputs = []
    for given in paths:
        if given == STDIN:
            inputs.append(Input(STDIN_NAME, None, sys.stdin.read()))
            continue
        path = Path(given)
        if path.is_dir():
            found = [path / DEFINITION_FILE] if (path / DEFINITION_FILE).is_file() else []
            found = found or sorted(path.glob(f"*/{DEFINITION_FILE}"))
            inputs += [_read(p, display(p, root)) for p in found]
        else:
            inputs.append(_read(path, display(path, root)))
    return inputs


def _root_for(paths: list[str]) -> Path | None:
    """The repository around the current folder, else the one around every file given."""
    root = find_root_or_none()
    if root is not None or not paths:
        return root
    roots = {
        find_root_or_none(Path(p).resolve().parent)
        for p in paths
        if p != STDIN and Path(p).exists()
    }
    return roots.pop() if len(roots) == 1 else None


def definition_lines(report: DefinitionReport, repo: RepoConfig, *, explain: bool) -> list[str]:
    """What hpo check says of a valid definition: one line, its worst case against its budget
    (and what a warm start took); with --explain, the training arguments a trial runs with."""
    spec, path = report.loaded.spec, report.loaded.path
    if report.lifecycle.archived:
        return [f"{path}: archived (stage {report.lifecycle.stage}); holds no GPUs"]
    worst = worst_case(spec, repo.clusters.get(spec.cluster))
    line = f"{path}: worst case {worst.shape}; {budget_text(spec)}"
    if spec.algorithm_name == ASHA:
        line += f"; storage: {storage_text(spec)}"
    if report.generated.note:
        line += f"; warm start: {report.generated.note}"
    if not explain:
        return [line]
    trainer = spec.trainer_parameters
    arguments = effective_training_arguments(
        trainer.training_parameters, trainer.exact_training_arguments
    )
    heading = (
        f"{path}: training arguments (set by the definition, searched, or chosen by the "
        "trainer; pin a choice by setting it):"
    )
    return [line, heading, *check_lines(arguments)]


def check(args: argparse.Namespace) -> int:
    root = _root_for(args.paths)
    if root is None and not args.paths:
        raise CheckUsageError(
            "hpo check without files checks the repository's experiments/, and there is no "
            "hpo repository here (no templates/ and images.yaml above the current folder): "
            "name the files to check (FILE..., or - for standard input)"
        )
    if root is None and args.base:
        raise CheckUsageError("--base compares with the repository's history: run it inside it")
    repo = load_repo_config(root) if root is not None else RepoConfig()
    problems = list(repo.problems)
    inputs = _inputs(args.paths, root)
    definitions = []
    for item in inputs:
        if item.problem is not None:
            problems.append(item.problem)
        elif _classify(item.text, item.shown) == "manifest":
            problems += check_manifest_text(item.text, item.shown)
        else:
            loaded = parse_definition(item.text, item.shown)
            folder = folder_name_of(item.path, root) if item.path is not None else None
            definitions.append((loaded, folder))
            if root is None:
                problems.append(Problem(item.shown, 1, 1, OUTSIDE, "warning"))
    reports = check_loaded(definitions, root, repo)
    if root is not None and reports:
        checked = {i.path.resolve() for i in inputs if i.path is not None and i.path.exists()}
        problems += check_repository_wide(reports, root, repo, checked)
    for report in reports:
        if args.base and not report.failed:
            from generator.commands.immutability import immutability_problems

            report.problems += immutability_problems(
                root, args.base, report.loaded, report.rendered, report.lifecycle
            )
        problems += report.problems
    for report in reports:
        if report.loaded.spec is not None and not report.failed:
            print("\n".join(definition_lines(report, repo, explain=args.explain)))
    if args.summary_md:
        from generator.commands.summary import write_summary

        write_summary(Path(args.summary_md), reports, repo, root, args.base)
    errors, warnings = print_problems(problems)
    print(summary_line(errors, warnings, len(inputs), "check"), file=sys.stderr)
    return ExitCode.PROBLEMS if errors else ExitCode.OK
