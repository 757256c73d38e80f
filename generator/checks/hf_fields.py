"""The fields of transformers.TrainingArguments and peft.LoraConfig, read from the installed source.

Importing either class costs seconds (both pull in torch); `hpo check` must stay fast. Both
are plain dataclasses, so their fields, annotations and the enums behind string options are read
from the installed packages' source with `ast`, which takes milliseconds. If the source ever
stops looking like a dataclass, the classes are imported instead.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class FieldInfo:
    name: str
    annotation: str  # source text of the annotation, e.g. "float" or "IntervalStrategy | str"
    choices: tuple[str, ...] = ()  # allowed strings, when the annotation names enums or a Literal

    @property
    def scalar_types(self) -> frozenset[str]:
        """Which of int/float/bool/str/none/list the annotation admits; empty when unknown."""
        unquoted = re.sub(r"'[^']*'|\"[^\"]*\"", "", self.annotation)
        words = set(re.findall(r"[A-Za-z_]+", unquoted))
        kinds = {
            kind
            for kind, names in {
                "int": {"int"},
                "float": {"float"},
                "bool": {"bool"},
                "str": {"str", "Literal"},
                "none": {"None", "Optional"},
                "list": {"list", "List", "tuple", "Tuple"},
                "dict": {"dict", "Dict"},
            }.items()
            if words & names
        }
        if self.choices:
            kinds.add("str")
        known = {
            "int",
            "float",
            "bool",
            "str",
            "None",
            "Optional",
            "Union",
            "Literal",
            "list",
            "List",
            "dict",
            "Dict",
            "tuple",
            "Tuple",
            "Any",
            "typing",
        }
        if words - known - set(_enum_names()):
            return frozenset()  # names a type we cannot judge from source: accept anything
        return frozenset(kinds)


# Which source files hold the class, its bases, and the string enums its annotations name.
_SOURCES = {
    "TrainingArguments": (
        "transformers",
        ["training_args.py", "trainer_utils.py", "debug_utils.py"],
        "transformers.training_args",
    ),
    "LoraConfig": (
        "peft",
        ["tuners/lora/config.py", "config.py", "utils/peft_types.py"],
        "peft.tuners.lora.config",
    ),
}


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _parsed(package: str, files: tuple[str, ...]) -> dict[str, ast.ClassDef]:
    root = _package_dir(package)
    classes: dict[str, ast.ClassDef] = {}
    if root is None:
        return classes
    for name in files:
        path = root / name
        if path.exists():
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, node)
    return classes


@cache
def _enum_names() -> dict[str, tuple[str, ...]]:
    """String enums (class X(ExplicitEnum|str, Enum): NAME = "value") of both libraries."""
    enums: dict[str, tuple[str, ...]] = {}
    for package, files, _ in _SOURCES.values():
        for cls in _parsed(package, tuple(files)).values():
            values = [
                stmt.value.value
                for stmt in cls.body
                if isinstance(stmt, ast.Assign)
                and isinstance(stmt.value, ast.Constant)
                and isinstance(stmt.value.value, str)
            ]
            bases = {ast.unparse(b) for b in cls.bases}
            if values and bases & {"ExplicitEnum", "Enum", "enum.Enum", "str"}:
                enums[cls.name] = tuple(values)
    return enums


def _fields_from_source(class_name: str) -> dict[str, FieldInfo]:
    package, files, _ = _SOURCES[class_name]
    classes = _parsed(package, tuple(files))
    enums = _enum_names()
    fields: dict[str, FieldInfo] = {}

    def collect(name: str) -> None:
        cls = classes.get(name)
        if cls is None:
            return
        for base in cls.bases:  # base fields first, so subclasses override them
            collect(ast.unparse(base))
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                annotation = ast.unparse(stmt.annotation)
                if annotation.startswith("ClassVar"):
                    continue
                choices: list[str] = []
                for word in re.findall(r"[A-Za-z_]+", annotation):
                    choices.extend(enums.get(word, ()))
                if "Literal[" in annotation:
                    choices.extend(re.findall(r"'([^']*)'", annotation))
                fields[stmt.target.id] = FieldInfo(stmt.target.id, annotation, tuple(choices))

    collect(class_name)
    return fields


def _fields_from_import(class_name: str) -> dict[str, FieldInfo]:
    _, _, module = _SOURCES[class_name]
    cls = getattr(importlib.import_module(module), class_name)
    return {
        f.name: FieldInfo(f.name, f.type if isinstance(f.type, str) else repr(f.type))
        for f in dataclasses.fields(cls)
    }


@cache
def dataclass_fields(class_name: str) -> dict[str, FieldInfo]:
    """Fields of TrainingArguments or LoraConfig in the installed library."""
    fields = _fields_from_source(class_name)
    if len(fields) < 5:  # the source no longer reads as a dataclass: ask Python
        fields = _fields_from_import(class_name)
    return fields


@cache
def library_available(class_name: str) -> bool:
    return _package_dir(_SOURCES[class_name][0]) is not None
