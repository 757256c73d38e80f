"""What `hpo check`, `hpo render` and `hpo schemas export` do, once the CLI has parsed them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.cost import budget_text, worst_case
from generator.errors import ExitCode, Problem
from generator.manifest_check import check_manifest_text, is_manifest
from generator.project import (
    DEFINITION_FILE,
    check_definitions,
    definition_paths,
    display,
    find_root,
)
from generator.repo_config import load_repo_config
from generator.yamlload import YamlProblems, load_located


def _print_problems(problems: list[Problem]) -> tuple[int, int]:
    errors = sorted({p for p in problems if p.is_error})
    warnings = sorted({p for p in problems if not p.is_error})
    for problem in errors + warnings:
        print(problem, file=sys.stderr)
    return len(errors), len(warnings)


def _summary_line(errors: int, warnings: int, checked: int, what: str) -> str:
    status = "failed" if errors else "ok"
    return f"hpo {what}: {status}: {checked} file(s), {errors} error(s), {warnings} warning(s)"


def _classify(path: Path) -> str:
    """'definition' or 'manifest' for a file given on the command line, by what it holds: a
    Kubernetes object is a manifest whatever the file is called."""
    named_like_a_definition = path.name == DEFINITION_FILE
    try:
        data = load_located(path.read_text(encoding="utf-8"), str(path)).data
    except (OSError, UnicodeDecodeError, YamlProblems):
        # Whichever check runs reports the read or syntax error with its position.
        return "definition" if named_like_a_definition else "manifest"
    if is_manifest(data):
        return "manifest"
    if named_like_a_definition or isinstance(data, dict) and "model_provider_parameters" in data:
        return "definition"
    return "manifest"


def _expand(paths: list[str], root: Path) -> list[Path]:
    if not paths:
        return definition_paths(root)
    expanded = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if (path / DEFINITION_FILE).is_file():
                expanded.append(path / DEFINITION_FILE)
            else:
                expanded.extend(sorted(path.glob(f"*/{DEFINITION_FILE}")))
        else:
            expanded.append(path)
    return expanded


def check(args: argparse.Namespace) -> int:
    root = find_root()
    repo = load_repo_config(root)
    problems = list(repo.problems)
    files = _expand(args.paths, root)
    definitions = []
    for path in files:
        if not path.exists():
            problems.append(Problem(str(path), 1, 1, "no such file or directory"))
        elif _classify(path) == "manifest":
            text = path.read_text(encoding="utf-8", errors="replace")
            problems += check_manifest_text(text, display(path, root))
        else:
            definitions.append(path)
    reports = check_definitions(definitions, root, repo)
    for report in reports:
        if args.base and not report.failed:
            from generator.immutability import immutability_problems

            report.problems += immutability_problems(
                root, args.base, report.loaded, report.rendered
            )
        problems += report.problems
    for report in reports:
        spec = report.loaded.spec
        if spec is not None and not report.failed:
            worst = worst_case(spec, repo.clusters.get(spec.cluster))
            print(
                f"{report.loaded.path}: worst case {worst.trials} trials x "
                f"{worst.gpus_per_trial} GPU(s) x {worst.hours_per_trial:g} h = "
                f"{worst.gpu_hours:g} GPU-hours; {budget_text(spec)}"
            )
    if args.summary_md:
        from generator.summary import write_summary

        write_summary(Path(args.summary_md), reports, repo, root, args.base)
    errors, warnings = _print_problems(problems)
    print(_summary_line(errors, warnings, len(files), "check"), file=sys.stderr)
    return ExitCode.PROBLEMS if errors else ExitCode.OK


def render(args: argparse.Namespace) -> int:
    from generator.render import desired_tree, stale_paths, write_tree

    root = find_root()
    repo = load_repo_config(root)
    problems = list(repo.problems)
    reports = check_definitions(definition_paths(root), root, repo)
    for report in reports:
        problems += report.problems
    errors, warnings = _print_problems(problems)
    if errors:
        print(
            _summary_line(errors, warnings, len(reports), "render") + "; nothing written",
            file=sys.stderr,
        )
        return ExitCode.PROBLEMS
    desired = desired_tree([r.rendered for r in reports if r.rendered is not None])
    if args.check:
        stale = stale_paths(root, desired)
        for path, reason in stale:
            print(f"{path}:1:1: error: {reason}; run hpo render and commit", file=sys.stderr)
        state = "stale" if stale else "up to date"
        print(f"hpo render --check: rendered/ is {state} ({len(desired)} file(s))", file=sys.stderr)
        return ExitCode.PROBLEMS if stale else ExitCode.OK
    changed = write_tree(root, desired)
    for path in changed:
        print(f"wrote {path}")
    print(f"hpo render: {len(changed)} file(s) changed, {len(desired)} rendered", file=sys.stderr)
    return ExitCode.OK


def schemas_export(args: argparse.Namespace) -> int:
    from generator.schemas import export_schemas

    for path in export_schemas(Path(args.directory)):
        print(f"wrote {path}")
    return ExitCode.OK
