"""Load `experiment.yaml` into an ExperimentSpec, turning every mistake into a located Problem."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from generator.errors import HpoError, Problem
from generator.loading.model_errors import document_loc, located_problems
from generator.loading.yamlload import LocatedDocument, YamlProblems, load_located
from generator.spec import UNSUPPORTED_TUNE_ARGUMENTS, ExperimentSpec, suggest_name


@dataclass
class LoadedDefinition:
    """A definition file, where it came from, and what it says (spec is None when invalid)."""

    path: str  # as given on the command line or relative to the repository
    text: str
    document: LocatedDocument | None
    spec: ExperimentSpec | None
    problems: list[Problem]
    # When spec is None: the definition without its broken keys, if that still forms a spec.
    # Checks run on it too, so one run reports every mistake; it is never rendered.
    salvaged: ExperimentSpec | None = None
    broken: tuple[tuple, ...] = ()  # document locations of the structural problems

    @property
    def sha256(self) -> str:
        """sha256 of the file's bytes: which definition a result came from."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def record(self) -> DefinitionRecord:
        """The validated definition as the other stages receive it (only when it is valid)."""
        if self.spec is None:
            raise ValueError(f"{self.path} is not a valid definition")
        return DefinitionRecord(self.spec, self.sha256)


class DefinitionRecordError(HpoError):
    """A carried definition cannot be read back: written by another version, or damaged."""


@dataclass(frozen=True)
class DefinitionRecord:
    """A validated definition and the sha256 of its file, as every later stage receives it.

    The local runner gets it in memory; the results Job gets `to_json()` from a ConfigMap rendered
    beside it. Nothing after `hpo check` reads experiment.yaml again.
    """

    spec: ExperimentSpec
    sha256: str

    def to_json(self) -> str:
        document = {"definition_sha256": self.sha256, "spec": self.spec.to_document()}
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> DefinitionRecord:
        try:
            document = json.loads(text)
            missing = [key for key in ("definition_sha256", "spec") if key not in document]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            spec = ExperimentSpec.from_document(document["spec"])
            return cls(spec, document["definition_sha256"])
        except (ValueError, TypeError) as e:
            reason = str(e).splitlines()[0]
            raise DefinitionRecordError(f"{where}: not a rendered definition: {reason}") from e


def load_definition(path: Path, display_path: str | None = None) -> LoadedDefinition:
    shown = display_path or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return LoadedDefinition(shown, "", None, None, [Problem(shown, 1, 1, f"cannot read: {e}")])
    return parse_definition(text, shown)


def parse_definition(text: str, path: str) -> LoadedDefinition:
    try:
        doc = load_located(text, path)
    except YamlProblems as e:
        return LoadedDefinition(path, text, None, None, e.problems)
    if not isinstance(doc.data, dict):
        problem = Problem(path, 1, 1, "a definition is a YAML mapping of keys to values")
        return LoadedDefinition(path, text, doc, None, [problem])
    data = dict(doc.data)
    problems = []
    for key, why in UNSUPPORTED_TUNE_ARGUMENTS.items():
        if key in data:
            problems.append(doc.problem((key,), f"{key}: not supported here: {why}", at_key=True))
            del data[key]
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as e:
        problems += located_problems(e, doc, ExperimentSpec, data, top="definition")
        broken = tuple(document_loc(tuple(err["loc"]), data) for err in e.errors())
        salvaged = _salvage(data, broken)
        return LoadedDefinition(path, text, doc, None, sorted(set(problems)), salvaged, broken)
    if problems:
        return LoadedDefinition(path, text, doc, None, sorted(set(problems)), spec)
    return LoadedDefinition(path, text, doc, spec, [])


def _salvage(data: dict, broken: tuple[tuple, ...]) -> ExperimentSpec | None:
    """The definition with each broken key removed (an invalid name replaced by a valid one)."""
    pruned = copy.deepcopy(data)
    for loc in broken:
        if loc == ("name",) and isinstance(pruned.get("name"), str):
            pruned["name"] = suggest_name(pruned["name"])
            continue
        parent = pruned
        for part in loc[:-1]:
            parent = parent[part] if isinstance(parent, dict | list) else None
        if isinstance(parent, dict) and loc and loc[-1] in parent:
            del parent[loc[-1]]
    try:
        return ExperimentSpec.model_validate(pruned)
    except ValidationError:
        return None  # a required key is broken: the other checks need it
