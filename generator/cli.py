"""`hpo`: check, render, tune locally, write back results, export schemas.

The only place that catches the project's errors: each is printed on one line to stderr and
mapped to an exit code (storage_init.exits.ExitCode). Bad input never produces a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points

from storage_init.exits import run_entry_point

# Subcommands of the roles above the generator (`hpo tune`, `hpo results`), declared in
# pyproject.toml, so the generator never imports the packages that build on it.
COMMANDS_GROUP = "hpo.commands"


def _command(name: str):
    """A subcommand of the generator, imported when it runs: `hpo results` in the results image
    needs none of the generator's validators."""

    def run(args: argparse.Namespace) -> int:
        module, function = name.split(":")
        return getattr(importlib.import_module(f"generator.commands.{module}"), function)(args)

    return run


def _pin(args: argparse.Namespace) -> int:
    """`hpo pin`, imported when it runs, like the other subcommands."""
    from generator.commands import pin

    return pin.run(args)


def _add_archive(commands: argparse._SubParsersAction) -> None:
    archive = commands.add_parser(
        "archive",
        help="delete an experiment's objects from its cluster through Argo CD; Git keeps its "
        "definition, results and report",
        description="Write experiments/<name>/archive.yaml and render the experiment's folder "
        "without manifests, so that Argo CD deletes what it deployed for it once this is "
        "merged (docs/lifecycle.md). Refused, writing nothing, for an experiment without "
        "results or whose trials saved adapters on its volume, unless --force.",
    )
    archive.add_argument("path", help="the experiment's folder, experiments/<name>")
    archive.add_argument(
        "--force",
        action="store_true",
        help="archive even an experiment that may still be running (no results.yaml), or whose "
        "trials saved adapters on its own volume",
    )
    archive.set_defaults(func=_command("archive:run"))


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
    check.add_argument(
        "-v",
        "--explain",
        action="store_true",
        help="also list each valid definition's training arguments: set by it, searched, or "
        "chosen by the trainer",
    )
    check.set_defaults(func=_command("check:check"))

    render = commands.add_parser("render", help="write rendered/ from experiments/")
    render.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when rendered/ is stale or edited by hand",
    )
    render.set_defaults(func=_command("render:render"))

    pin = commands.add_parser(
        "pin",
        help="write the Hub commits that the model's and dataset's revisions point at",
        description="Resolve revision: main (or none) of an hf:// model and a Hub dataset to "
        "commit shas through the Hub API (HF_ENDPOINT, HF_TOKEN) and write them into the "
        "definition, keeping its comments and formatting; the result is checked like hpo check.",
    )
    pin.add_argument("path", help="an experiment folder or its experiment.yaml")
    pin.set_defaults(func=_pin)

    _add_archive(commands)

    from generator.commands import katib_config

    katib_config.register(commands)

    schemas = commands.add_parser("schemas", help="JSON schemas of the custom kinds")
    schemas_commands = schemas.add_subparsers(dest="schemas_command", required=True)
    export = schemas_commands.add_parser("export", help="write kubeconform-layout schemas")
    export.add_argument("directory")
    export.set_defaults(func=_command("schemas:schemas_export"))

    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
        except ModuleNotFoundError as e:
            if e.name != entry.module.split(".")[0]:
                raise  # the package is there but broken: show the real error
            continue  # that role's package is not in this image
        register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_entry_point(lambda: args.func(args), prefix="hpo: error")


if __name__ == "__main__":
    sys.exit(main())
