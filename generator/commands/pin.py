"""`hpo pin experiments/<name>`: write the Hub commits that revisions point at into a definition.

`revision: main` (or none) fetches whatever main is when the download Job runs; a commit sha
fetches the same files every time. This asks the Hub (HF_ENDPOINT, with HF_TOKEN when set) what
the download Job asks it (`storage_init.hub.resolve_commit`, which also translates the Hub's
errors) for the commit of the model's revision (hf:// only) and of a Hub dataset's, and rewrites
only the characters of each revision value, or inserts a `revision:` line after `model_uri` /
`repo_id`, so every comment and all formatting stay. The result is checked as `hpo check` checks
a file, and written only when it passes.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.checks.sources import reference_findings
from generator.commands.project import (
    DEFINITION_FILE,
    check_definition_text,
    display,
    find_root,
    folder_name_of,
)
from generator.errors import HpoError, Problem
from generator.files import write_atomically
from generator.loading.definition import parse_definition
from generator.loading.repo_config import load_repo_config
from generator.loading.yamlload import resolve_plain_scalar
from generator.spec.sources import HuggingFaceDatasetParams
from storage_init.exits import ExitCode
from storage_init.hub import COMMIT, resolve_commit
from storage_init.references import HubRepo, parse_dataset_repo_id, parse_model_uri
from storage_init.retry import RetryPolicy

TOKEN_HINT = "HF_TOKEN"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
NULLS = {"null", "Null", "NULL", "~"}
_PLAIN = re.compile(r"[^\s#,\[\]{}]+(?:[ \t]+[^\s#,\[\]{}]+)*")


class PinProblems(HpoError):
    """The definition cannot be pinned as written, or would not pass `hpo check` once pinned."""

    exit_code = ExitCode.PROBLEMS


@dataclass(frozen=True)
class Target:
    what: str  # "model" or "dataset"
    section: str  # the definition key holding it
    key: str  # the key naming the repo: model_uri or repo_id
    repo_type: str  # "model" or "dataset" (the Hub API's path segment without the s)
    repo_id: str
    revision: str | None


def run(args) -> int:
    root = find_root()
    path = Path(args.path)
    path = path / DEFINITION_FILE if path.is_dir() else path
    shown = display(path, root)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PinProblems(f"{shown}: cannot read: {e.strerror or e}") from e
    text = raw.decode("utf-8")
    loaded = parse_definition(text, shown)
    problems = list(loaded.problems)
    if loaded.spec is not None and loaded.document is not None:
        # A reference the Hub would refuse is reported at its line before anything is asked.
        problems += [
            loaded.document.problem(loc, message, severity=severity)
            for loc, message, severity in reference_findings(loaded.spec)
        ]
    if loaded.spec is None or loaded.document is None or any(p.is_error for p in problems):
        _print(problems)
        raise PinProblems(f"{shown}: fix the definition first (hpo check {shown})")
    edits, lines = [], []
    for target in targets(loaded.spec):
        if target.revision is not None and COMMIT.match(target.revision):
            lines.append(f"{shown}: {target.what} {target.repo_id} is pinned to {target.revision}")
            continue
        commit = resolve(target)
        edits.append(edit_for(text, loaded.document, target, commit))
        lines.append(
            f"{shown}: {target.what} {target.repo_id}: revision "
            f"{target.revision or '(none, main)'} -> {commit}"
        )
    if not edits:
        print("\n".join(lines + [f"{shown}: nothing to pin; not written"]))
        return int(ExitCode.OK)
    pinned = apply(text, edits)
    repo = load_repo_config(root)
    report = check_definition_text(pinned, shown, folder_name_of(path, root), root, repo)
    _print(report.problems)
    if report.failed:
        raise PinProblems(f"{shown}: the pinned definition does not pass hpo check; not written")
    write_atomically(path, pinned.encode("utf-8"))
    print("\n".join(lines + [f"{shown}: written"]))
    return int(ExitCode.OK)


def targets(spec) -> list[Target]:
    """The Hub inputs of a definition: an hf:// model and a Hub dataset, read by the one parser
    of references (a definition that reached here has passed it already)."""
    found = []
    model = spec.model_provider_parameters
    reference = parse_model_uri(model.model_uri)
    if isinstance(reference, HubRepo):
        found.append(
            Target(
                "model",
                "model_provider_parameters",
                "model_uri",
                "model",
                reference.repo_id,
                model.revision,
            )
        )
    dataset = spec.dataset_provider_parameters
    if isinstance(dataset, HuggingFaceDatasetParams):
        reference = parse_dataset_repo_id(dataset.repo_id)
        if isinstance(reference, HubRepo):
            found.append(
                Target(
                    "dataset",
                    "dataset_provider_parameters",
                    "repo_id",
                    "dataset",
                    reference.repo_id,
                    dataset.revision,
                )
            )
    return found


def resolve(target: Target) -> str:
    """The commit `target.revision` (default main) points at: the download Job's own question
    to the Hub, its retries and its translation of the Hub's errors, naming HF_TOKEN."""
    policy = RetryPolicy.from_env()
    commit = resolve_commit(
        target.repo_id, target.repo_type, target.revision, None, policy, TOKEN_HINT
    )
    if commit is None:
        raise PinProblems(
            f"{target.what} {target.repo_id}: HF_HUB_OFFLINE is set, and pinning asks the Hub "
            "what a revision points at; unset it"
        )
    return commit


def offset(text: str, line: int, col: int) -> int:
    """The index of (1-based) line and column in `text`, counting line breaks as YAML does."""
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    return starts[line - 1] + col - 1


def scalar_end(text: str, start: int) -> int:
    """Where the scalar written at `start` ends: its closing quote, or the end of plain text."""
    quote_char = text[start]
    if quote_char == "'":
        index = start + 1
        while True:
            index = text.index("'", index)
            if text.startswith("''", index):
                index += 2
                continue
            return index + 1
    if quote_char == '"':
        index = start + 1
        while text[index] != '"':
            index += 2 if text[index] == "\\" else 1
        return index + 1
    match = _PLAIN.match(text, start)
    return match.end() if match else start


def _written(commit: str, quote_char: str) -> str:
    """The commit as YAML text: in the value's own quotes, or plain when plain reads back as it."""
    if quote_char in "'\"":
        return f"{quote_char}{commit}{quote_char}"
    return commit if resolve_plain_scalar(commit) == commit else f'"{commit}"'


def edit_for(text: str, document, target: Target, commit: str) -> tuple[int, int, str]:
    """(start, end, replacement) that pins `target` to `commit` in `text`."""
    revision_at = document.value_positions.get((target.section, "revision"))
    if (target.section, "revision") in document.key_positions and revision_at is not None:
        start = offset(text, *revision_at)
        end = scalar_end(text, start)
        written = text[start:end]
        quote_char = written[:1] if written[:1] in "'\"" else ""
        readable = written[1:-1] if quote_char else written
        # What the loader read there: the revision, or a written null.
        expected = {target.revision} if target.revision is not None else NULLS
        if readable not in expected:
            line, col = revision_at
            raise PinProblems(
                f"{document.path}:{line}:{col}: cannot rewrite this revision value in place; "
                f"write revision: {commit} by hand"
            )
        return start, end, _written(commit, quote_char)
    key_at = document.key_positions[(target.section, target.key)]
    value_at = document.value_positions[(target.section, target.key)]
    key_start = offset(text, *key_at)
    value_end = scalar_end(text, offset(text, *value_at))
    before = text[text.rfind("\n", 0, key_start) + 1 : key_start].rstrip()
    if before.endswith(("{", ",")):  # a flow mapping: {model_uri: hf://x, ...}
        return value_end, value_end, f", revision: {_written(commit, '')}"
    line_end = _LINE_BREAK.search(text, value_end)
    at = line_end.start() if line_end else len(text)
    newline = line_end.group() if line_end else "\n"
    indent = " " * (key_at[1] - 1)
    return at, at, f"{newline}{indent}revision: {_written(commit, '')}"


def apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _print(problems: list[Problem]) -> None:
    for problem in sorted(set(problems)):
        print(problem, file=sys.stderr)
