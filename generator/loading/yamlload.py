"""Load YAML with the position of every node, YAML 1.2 scalars and no duplicate keys.

PyYAML resolves scalars by YAML 1.1, where `1e-5` is a string and `no` is false: both bite
experiment definitions (`learning_rate: 1e-5`, `save_strategy: no`). Here plain scalars follow
the YAML 1.2 core schema instead, and every mapping key and value keeps its line and column so
a problem found anywhere later can point at the text that caused it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import yaml

from generator.errors import Problem

try:  # the C parser is ~10x faster; positions are the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

Path = tuple[str | int, ...]

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge", "binary")
}


def resolve_plain_scalar(text: str):
    """The value of an unquoted scalar under the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return int(text)
    if _INT_OCT.match(text):
        return int(text[2:], 8)
    if _INT_HEX.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


@dataclass
class LocatedDocument:
    """A loaded YAML document and where each of its parts is written."""

    path: str
    data: object
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Path, *, at_key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of `loc`, or of its closest written ancestor."""
        loc = tuple(loc)
        while True:
            table = (self.key_positions, self.value_positions)
            if not at_key:
                table = table[::-1]
            for positions in table:
                if loc in positions:
                    return positions[loc]
            if not loc:
                return (1, 1)
            loc = loc[:-1]

    def problem(self, loc: Path, message: str, *, at_key=False, severity="error") -> Problem:
        line, col = self.position(loc, at_key=at_key)
        return Problem(self.path, line, col, message, severity)


class YamlProblems(Exception):
    """The text is not a usable YAML document; carries located problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _mark(node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def load_located(text: str, path: str) -> LocatedDocument:
    """Parse one YAML document; raise YamlProblems for syntax errors and duplicate keys."""
    documents = load_located_all(text, path)
    if len(documents) > 1:
        line, col = documents[1].position(())
        raise YamlProblems([Problem(path, line, col, "expected one YAML document, found several")])
    return documents[0]


def load_located_all(text: str, path: str) -> list[LocatedDocument]:
    """Parse every document of a YAML stream (a manifest file may hold several)."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = e.problem or e.context or "invalid YAML"
        raise YamlProblems([Problem(path, line, col, f"invalid YAML: {reason}")]) from e
    except yaml.YAMLError as e:  # reader errors (control characters, bad encoding) carry no mark
        position = getattr(e, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        raise YamlProblems([Problem(path, line, 1, f"invalid YAML: {e}".splitlines()[0])]) from e
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise YamlProblems([Problem(path, 1, 1, "the file is empty")])
    documents, problems = [], []
    for node in nodes:
        doc = LocatedDocument(path, None, value_positions={(): _mark(node)})
        doc.data = _construct(node, (), doc, problems, set())
        documents.append(doc)
    if problems:
        raise YamlProblems(sorted(set(problems)))
    return documents


def _construct(node, loc: Path, doc: LocatedDocument, problems: list[Problem], seen: set[int]):
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        # An alias makes the composer hand out the same node again. Expanding shared nodes lets
        # a few hundred bytes grow into gigabytes, and a definition has no use for them.
        if id(node) in seen:
            line, col = _mark(node)
            problems.append(
                Problem(doc.path, line, col, "YAML anchors and aliases are not supported")
            )
            return None
        seen.add(id(node))
    if not isinstance(node, yaml.MappingNode):
        # A problem with a whole mapping reads best at its key, which is recorded by the parent.
        doc.value_positions.setdefault(loc, _mark(node))
    if node.tag not in _STANDARD_TAGS:
        line, col = _mark(node)
        problems.append(Problem(doc.path, line, col, f"unsupported YAML tag {node.tag}"))
        return None
    if isinstance(node, yaml.ScalarNode):
        if not node.style:  # plain (unquoted); the C parser reports "" rather than None
            return resolve_plain_scalar(node.value)
        return node.value
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            # An item has no key of its own: a problem with a whole mapping item (a cluster of
            # clusters.yaml missing a key) reads best at the item, not at the list's key.
            doc.value_positions.setdefault(loc + (i,), _mark(item))
            items.append(_construct(item, loc + (i,), doc, problems, seen))
        return items
    mapping: dict = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            line, col = _mark(key_node)
            problems.append(Problem(doc.path, line, col, "mapping keys must be plain strings"))
            continue
        key = key_node.value
        if key in mapping:
            line, col = _mark(key_node)
            first_line, _ = doc.key_positions[loc + (key,)]
            problems.append(
                Problem(
                    doc.path, line, col, f"duplicate key '{key}' (first set on line {first_line})"
                )
            )
            continue
        doc.key_positions[loc + (key,)] = _mark(key_node)
        mapping[key] = _construct(value_node, loc + (key,), doc, problems, seen)
    return mapping
