"""Load `experiment.yaml` into an ExperimentSpec, turning every mistake into a located Problem."""

from __future__ import annotations

import copy
import difflib
import types
import typing
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ValidationError

from generator.errors import Problem
from generator.spec import UNSUPPORTED_TUNE_ARGUMENTS, ExperimentSpec, suggest_name
from generator.validate import dotted
from generator.yamlload import LocatedDocument, YamlProblems, load_located


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
