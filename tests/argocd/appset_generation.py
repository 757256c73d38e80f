"""Expand argocd/applicationset.yaml the way the ApplicationSet controller does, offline.

Covers exactly what the project's ApplicationSet uses: a matrix of the clusters generator
(Secrets selected by matchLabels) and the git directories generator, whose path may use the
cluster's parameters; Go templates with `missingkey=error` that only read parameters
(`{{.name}}`, `{{.path.basename}}`). Parameter names are those Argo CD documents for goTemplate.
Anything else in a template is refused, so the emulation can never pass a template it does not
understand.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path, PurePosixPath
from typing import Any

_FIELD = re.compile(r"\{\{\s*\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}")


class TemplateError(Exception):
    """What the ApplicationSet controller would refuse: an unknown parameter or construct."""


def cluster_params(name: str, server: str, labels: dict[str, str]) -> dict[str, Any]:
    """The parameters the clusters generator produces for one Argo CD cluster Secret."""
    return {
        "name": name,
        "nameNormalized": name,
        "server": server,
        "project": "",
        "metadata": {"labels": dict(labels), "annotations": {}},
    }


def directory_params(path: str) -> dict[str, Any]:
    """The parameters the git directories generator produces for one matched directory."""
    segments = path.split("/")
    return {
        "path": {
            "path": path,
            "basename": segments[-1],
            "basenameNormalized": re.sub(r"[^a-zA-Z0-9-]", "-", segments[-1]).lower(),
            "segments": segments,
        }
    }


def render(value: Any, params: dict[str, Any]) -> Any:
    """Render every string in `value` as a Go template that only reads parameters."""
    if isinstance(value, dict):
        return {key: render(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, params) for item in value]
    if not isinstance(value, str):
        return value
    rendered = _FIELD.sub(lambda match: str(_lookup(params, match.group(1))), value)
    if "{{" in rendered:
        raise TemplateError(f"unsupported template construct in {value!r}")
    return rendered


def _lookup(params: dict[str, Any], dotted: str) -> Any:
    current: Any = params
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            raise TemplateError(f"map has no entry for key {part!r} (in .{dotted})")
        current = current[part]
    return current


def matching_directories(repo: Path, pattern: str) -> list[str]:
    """Directories of `repo` matching a git generator path (each `*` stays within one segment)."""
    current = [repo]
    for glob in PurePosixPath(pattern).parts:
        current = [
            child
            for parent in current
            for child in parent.iterdir()
            if child.is_dir()
            and not child.name.startswith(".")
            and fnmatch.fnmatchcase(child.name, glob)
        ]
    return sorted("/".join(path.relative_to(repo).parts) for path in current)


def generate(
    appset: dict[str, Any], clusters: list[dict[str, Any]], repo: Path
) -> list[dict[str, Any]]:
    """The Applications `appset` yields for cluster Secrets `clusters` and checkout `repo`."""
    spec = appset["spec"]
    if not spec.get("goTemplate") or "missingkey=error" not in spec.get("goTemplateOptions", []):
        raise TemplateError("the emulation only models goTemplate with missingkey=error")
    [generator] = spec["generators"]
    first, second = generator["matrix"]["generators"]
    wanted_labels = first["clusters"]["selector"]["matchLabels"]
    applications = []
    for cluster in clusters:
        labels = cluster["metadata"]["labels"]
        if any(labels.get(key) != value for key, value in wanted_labels.items()):
            continue
        git = render(second["git"], cluster)
        for entry in git["directories"]:
            for path in matching_directories(repo, entry["path"]):
                params = {**cluster, **directory_params(path)}
                application = render(copy.deepcopy(spec["template"]), params)
                applications.append(application)
    return applications
