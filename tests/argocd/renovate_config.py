"""Reading .github/renovate.json5 as Renovate does, for tests: its file patterns and its custom
managers' patterns, applied to this repository's files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import json5

from tests.argocd.workflow_files import REPO_ROOT

CONFIG = REPO_ROOT / ".github" / "renovate.json5"

# A JavaScript named group, `(?<name>`, but not a lookbehind `(?<=` or `(?<!`.
_JS_NAMED_GROUP = re.compile(r"\(\?<(?=[A-Za-z_])")
# Renovate compiles patterns with RE2, which has no lookaround and no backreferences.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\\k<")


def load_config(path: Path = CONFIG) -> dict[str, Any]:
    return json5.loads(path.read_text(encoding="utf-8"))


def python_regex(pattern: str) -> re.Pattern[str]:
    """A pattern from the config (JavaScript syntax, run by Renovate under RE2) in Python's
    syntax: named groups `(?<n>...)` become `(?P<n>...)`."""
    if _NOT_RE2.search(pattern):
        raise ValueError(f"RE2 cannot run this pattern (lookaround or backreference): {pattern}")
    return re.compile(_JS_NAMED_GROUP.sub("(?P<", pattern))


def file_pattern(pattern: str) -> re.Pattern[str]:
    """A managerFilePatterns entry. Renovate reads `/.../` as a regular expression on the path
    from the repository root, anything else as a glob; this config uses the first only."""
    if len(pattern) < 2 or not (pattern.startswith("/") and pattern.endswith("/")):
        raise ValueError(f"not a /regex/ file pattern: {pattern!r}")
    return python_regex(pattern[1:-1])


def selected(patterns: list[str], files: list[str]) -> list[str]:
    compiled = [file_pattern(p) for p in patterns]
    return [f for f in files if any(p.search(f) for p in compiled)]


def extracted(manager: dict[str, Any], text: str) -> list[dict[str, str]]:
    """What a regex custom manager extracts from one file: with the default matchStringsStrategy
    ("any") every match of every matchString is one dependency, named by its groups."""
    assert manager.get("matchStringsStrategy", "any") == "any"
    found = []
    for pattern in manager["matchStrings"]:
        for match in python_regex(pattern).finditer(text):
            found.append({k: v for k, v in match.groupdict().items() if v is not None})
    return found


def custom_manager(config: dict[str, Any], dep_name: str) -> dict[str, Any]:
    [manager] = [m for m in config["customManagers"] if m.get("depNameTemplate") == dep_name]
    return manager


def rules_for(config: dict[str, Any], manager: str) -> list[dict[str, Any]]:
    """The packageRules that apply to every dependency of a manager (no narrower matcher)."""
    return [
        rule
        for rule in config["packageRules"]
        if rule.get("matchManagers") == [manager]
        and not any(k.startswith("match") and k != "matchManagers" for k in rule)
    ]
