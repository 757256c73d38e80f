"""`hpo`: check, render, tune locally, write back results, export schemas.

The only place that catches the project's errors: each is printed on one line to stderr and
mapped to an exit code (generator.errors.ExitCode). Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.errors import ExitCode, HpoError, Problem
from generator.manifest_check import check_manifest_text, is_manifest
from generator.project import (
    DEFINITION_FILE,
    check_definitions,
    definition_paths,
    display,
    find_root,
    worst_case_gpu_hours,
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
    """'definition', 'manifest' or 'unknown' for a file given on the command line."""
    if path.name == DEFINITION_FILE:
        return "definition"
    try:
        data = load_located(path.read_text(encoding="utf-8"), str(path)).data
    except (OSError, UnicodeDecodeError, YamlProblems):
        return "manifest"  # a manifest check reports the read or syntax error with its position
    if is_manifest(data):
        return "manifest"
    return (
        "definition"
        if isinstance(data, dict) and "model_provider_parameters" in data
        else "manifest"
    )


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


def cmd_check(args: argparse.Namespace) -> int:
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
        if report.loaded.spec is not None and not report.failed:
            trials, gpus, hours, total = worst_case_gpu_hours(report, repo)
            print(
                f"{report.loaded.path}: worst case {trials} trials x {gpus} GPU(s) x "
                f"{hours:g} h = {total:g} GPU-hours"
            )
    if args.summary_md:
        from generator.summary import write_summary

        write_summary(Path(args.summary_md), reports, repo, root, args.base)
    errors, warnings = _print_problems(problems)
    print(_summary_line(errors, warnings, len(files), "check"), file=sys.stderr)
    return ExitCode.PROBLEMS if errors else ExitCode.OK


def cmd_render(args: argparse.Namespace) -> int:
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


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from generator.schemas import export_schemas

    for path in export_schemas(Path(args.directory)):
        print(f"wrote {path}")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hpo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="validate definitions, rendered output and manifests")
    check.add_argument(
        "paths",
        nargs="*",
        help="experiment folders, definition files or manifest "
        "files (default: every experiments/*/experiment.yaml)",
    )
    check.add_argument(
        "--base",
        help="git ref to compare against: existing experiments may change only their trial counts",
    )
    check.add_argument(
        "--summary-md", metavar="FILE", help="write a Markdown summary for the pull request"
    )
    check.set_defaults(func=cmd_check)

    render = commands.add_parser("render", help="write rendered/ from experiments/")
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when rendered/ is stale or edited by hand",
    )
    render.set_defaults(func=cmd_render)

    schemas = commands.add_parser("schemas", help="JSON schemas of the custom kinds")
    schemas_commands = schemas.add_subparsers(dest="schemas_command", required=True)
    export = schemas_commands.add_parser("export", help="write kubeconform-layout schemas")
    export.add_argument("directory")
    export.set_defaults(func=cmd_schemas_export)

    for module in ("local_runner.cli", "results.cli"):
        try:
            register = __import__(module, fromlist=["register"]).register
        except ModuleNotFoundError as e:
            if e.name != module.split(".")[0]:
                raise  # the package is there but broken: show the real error
            continue  # that role's package is not in this image
        register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except HpoError as e:
        print(f"hpo: error: {e}", file=sys.stderr)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print("hpo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
