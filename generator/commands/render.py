"""What `hpo render` does: check every definition, then write rendered/ (or, with --check, say
whether it is stale)."""

from __future__ import annotations

import argparse
import sys

from generator.commands.check import print_problems, summary_line
from generator.commands.project import (
    check_definitions,
    definition_paths,
    find_root,
    repository_wide,
)
from generator.errors import ExitCode
from generator.loading.repo_config import load_repo_config


def render(args: argparse.Namespace) -> int:
    from generator.rendering.render import desired_tree, stale_paths, write_tree

    root = find_root()
    repo = load_repo_config(root)
    problems = list(repo.problems)
    reports = check_definitions(definition_paths(root), root, repo)
    problems += repository_wide(reports, [], repo)
    for report in reports:
        problems += report.problems
    errors, warnings = print_problems(problems)
    if errors:
        print(
            summary_line(errors, warnings, len(reports), "render") + "; nothing written",
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
