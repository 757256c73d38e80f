"""`hpo tune --local experiments/<name>`: render the experiment and run it on this machine.

Order matters: everything that can be refused (the definition, the algorithm, the search space,
missing secrets, the saved run) is checked before the first process starts, so bad input costs
seconds and leaves nothing half-done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.errors import ExitCode

PROG = "hpo tune"


def register(subparsers) -> None:
    tune = subparsers.add_parser(
        "tune",
        help="run an experiment on this machine (--local)",
        description="Run an experiment's trials as local processes, the way Katib runs them.",
    )
    tune.add_argument("experiment", help="experiments/<name>, or a path to its experiment.yaml")
    tune.add_argument(
        "--local",
        action="store_true",
        help="run here (clusters run experiments through Argo CD once the PR is merged)",
    )
    tune.add_argument(
        "--resume",
        action="store_true",
        help="continue the saved run of this experiment instead of starting over",
    )
    tune.add_argument(
        "--workdir",
        default=".hpo",
        help="local state: cache, Optuna storage, trial outputs (default: .hpo in the repository)",
    )
    tune.set_defaults(func=run)


def definition_path(given: str, root: Path) -> Path:
    from generator.commands.project import DEFINITION_FILE
    from local_runner.errors import LocalRunError

    path = Path(given)
    if path.is_dir():
        path = path / DEFINITION_FILE
    if not path.is_file():
        candidate = root / "experiments" / given / DEFINITION_FILE
        if candidate.is_file():
            return candidate
        raise LocalRunError(f"{given}: no such experiment (expected experiments/<name>/)")
    return path


def run(args: argparse.Namespace) -> int:
    from generator.commands.project import check_definition_file, display, find_root
    from generator.loading.repo_config import load_repo_config
    from local_runner.errors import LocalRunError

    if not args.local:
        raise LocalRunError(
            "hpo tune runs experiments only with --local; on a cluster, Argo CD starts them "
            "when the definition is merged"
        )
    root = find_root()
    path = definition_path(args.experiment, root)
    # Locally Secrets come from this environment by the definition's names
    # (local_runner.environment), never from a cluster's secret store.
    repo = load_repo_config(root).without_secret_stores()
    report = check_definition_file(path, root, repo)
    errors = sorted({p for p in report.problems if p.is_error})
    for problem in errors:
        print(problem, file=sys.stderr)
    shown = display(path, root)
    if errors or report.rendered is None:
        raise LocalRunError(f"{shown} has {len(errors)} error(s); nothing was run")
    if report.lifecycle.archived:
        from generator.commands.immutability import rerun_advice

        raise LocalRunError(
            f"{shown} is archived: it is the record of a finished run; nothing was run. To "
            f"search again, {rerun_advice(report.loaded.spec.name)}"
        )
    workdir = Path(args.workdir)
    workdir = workdir if workdir.is_absolute() else root / workdir
    from local_runner.session import Session

    session = Session.prepare(report.rendered, path.parent, root, workdir)
    outcome = session.run(resume=args.resume)
    return _exit_code(outcome)


def _exit_code(status: str | None) -> int:
    if status is None:
        return 130  # interrupted, like any program stopped with Ctrl-C
    return int(ExitCode.OK if status == "Succeeded" else ExitCode.STAGE_FAILED)
