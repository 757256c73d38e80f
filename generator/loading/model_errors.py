"""Turn a pydantic ValidationError on a located YAML document into one Problem per mistake.

Every file the generator reads through a model (a definition, argocd/clusters.yaml, images.yaml)
reports its mistakes the same way: at the line and column of the key or value that caused them,
naming the closest known key when a key is unknown, and all of them at once.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, replace

from pydantic import BaseModel, ValidationError

from generator.errors import Problem
from generator.loading.yamlload import LocatedDocument
from generator.validate import dotted


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """The hint "; did you mean 'X'?" for the closest of `known`, or "" when none is close."""
    close = difflib.get_close_matches(word, sorted(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def located_problems(
    error: ValidationError,
    doc: LocatedDocument,
    model: type[BaseModel],
    data: object = None,
    *,
    top: str | None = None,
) -> list[Problem]:
    """The errors of validating `data` (default: the document's data) with `model`, located.
    `top` names the whole document in messages about its top-level keys ("definition")."""
    data = doc.data if data is None else data
    return merge_alternatives([_locate(e, doc, model, data, top) for e in error.errors()])


def document_loc(loc: tuple, data: object) -> tuple:
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


def merge_alternatives(problems: list[Problem]) -> list[Problem]:
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


def _locate(
    error: dict, doc: LocatedDocument, model: type[BaseModel], data: object, top: str | None
) -> Problem:
    raw_loc = tuple(error["loc"])
    loc = document_loc(raw_loc, data)
    kind = error["type"]

    if kind == "extra_forbidden":
        key = str(raw_loc[-1])
        message = f"unknown key '{key}'" + did_you_mean(key, known_keys(model, loc[:-1]))
        return doc.problem(loc, _prefixed(dotted(loc[:-1]) or top, message), at_key=True)
    if kind == "missing":
        message = f"missing required key '{raw_loc[-1]}'"
        return doc.problem(loc, _prefixed(dotted(loc) or top, message), at_key=True)
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    discriminator = str(error.get("ctx", {}).get("discriminator", ""))
    if kind == "union_tag_invalid" and discriminator.startswith("'"):
        # A field discriminator ('search'): say which kinds exist rather than pydantic's wording.
        name = discriminator.strip("'")
        message = f"unknown {name} type; use one of {error['ctx']['expected_tags']}"
    return doc.problem(loc, _prefixed(dotted(loc), message))


def _prefixed(where: str | None, message: str) -> str:
    return f"{where}: {message}" if where else message


@dataclass(frozen=True)
class _Values:
    """A mapping whose values are models: any key of it leads to them."""

    models: tuple[type[BaseModel], ...]


def known_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names valid at a document location under `model`, for 'did you mean' hints."""
    models: list = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        next_models: list = []
        for candidate in models:
            if isinstance(candidate, _Values):  # `part` is one of the mapping's own keys
                next_models.extend(candidate.models)
                continue
            field = candidate.model_fields.get(part)
            if field is not None:
                next_models.extend(_models_in(field.annotation))
        models = next_models
    return sorted({name for c in models if not isinstance(c, _Values) for name in c.model_fields})


def _models_in(annotation: object) -> list:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple):
        # A list's items are reached through an index, which the walk above skips.
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    if origin is dict:
        values = [m for m in _models_in(typing.get_args(annotation)[1]) if isinstance(m, type)]
        return [_Values(tuple(values))] if values else []
    return []
