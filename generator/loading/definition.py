"""Load `experiment.yaml` into an ExperimentSpec, turning every mistake into a located Problem."""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import types
import typing
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ValidationError

from generator.errors import HpoError, Problem
from generator.loading.yamlload import LocatedDocument, YamlProblems, load_located
from generator.spec import UNSUPPORTED_TUNE_ARGUMENTS, ExperimentSpec, suggest_name
from generator.validate import dotted


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
        problems += _merge_alternatives([_locate(err, doc) for err in e.errors()])
        broken = tuple(_document_loc(tuple(err["loc"]), data) for err in e.errors())
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


def _merge_alternatives(problems: list[Problem]) -> list[Problem]:
    """One line per place: a value that fits no branch of a union fails each branch."""
    by_place: dict[tuple, list[Problem]] = {}
    for problem in problems:
        by_place.setdefault((problem.line, problem.col), []).append(problem)
    merged = []
    for group in by_place.values():
        expected = [p.message.partition("Input should be ")[2] for p in group]
        if len(group) > 1 and all(expected):
            prefix = group[0].message.partition("Input should be ")[0]
            alternatives = " or ".join(dict.fromkeys(expected))
            merged.append(replace(group[0], message=f"{prefix}Input should be {alternatives}"))
        else:
            merged.extend(group)
    return merged


def _document_loc(loc: tuple, data: object) -> tuple:
    """Drop the parts of a pydantic error location that are not in the document (union tags)."""
    kept: list = []
    node = data
    for part in loc:
        if (
            isinstance(node, dict)
            and part in node
            or isinstance(node, list)
            and isinstance(part, int)
            and part < len(node)
        ):
            kept.append(part)
            node = node[part]
    return tuple(kept)


def _locate(error: dict, doc: LocatedDocument) -> Problem:
    raw_loc = tuple(error["loc"])
    loc = _document_loc(raw_loc, doc.data)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = raw_loc[-1]
        message = f"unknown key '{key}'"
        close = difflib.get_close_matches(str(key), _known_keys(loc[:-1]), n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        return doc.problem(loc, f"{dotted(loc[:-1]) or 'definition'}: {message}", at_key=True)
    if kind == "missing":
        where = dotted(loc) or "definition"
        return doc.problem(loc, f"{where}: missing required key '{raw_loc[-1]}'", at_key=True)
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "union_tag_invalid" and "search" in str(error.get("ctx", {}).get("discriminator")):
        message = f"unknown search type; use one of {error['ctx']['expected_tags']}"
    where = dotted(loc)
    return doc.problem(loc, f"{where}: {message}" if where else message)


def _known_keys(loc: tuple) -> list[str]:
    """Field names valid at a location, for 'did you mean' hints."""
    models: list[type[BaseModel]] = [ExperimentSpec]
    for part in loc:
        if isinstance(part, int):
            continue
        next_models: list[type[BaseModel]] = []
        for model in models:
            field = model.model_fields.get(part)
            if field is not None:
                next_models.extend(_models_in(field.annotation))
        models = next_models
    return sorted({name for model in models for name in model.model_fields})


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []
