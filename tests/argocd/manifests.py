"""Loading the Argo CD manifests and cluster list; checking rendered/ against the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ARGOCD_DIR = REPO_ROOT / "argocd"


def load_one(name: str) -> dict[str, Any]:
    [document] = list(yaml.safe_load_all((ARGOCD_DIR / name).read_text()))
    return document


def appproject() -> dict[str, Any]:
    return load_one("appproject.yaml")


def applicationset() -> dict[str, Any]:
    return load_one("applicationset.yaml")


def health_patch() -> dict[str, Any]:
    return load_one("argocd-cm-patch.yaml")


def clusters() -> list[dict[str, Any]]:
    return load_one("clusters.yaml")["clusters"]


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def project_violations(rendered_root: Path, project: dict[str, Any]) -> list[str]:
    """Every object under rendered_root/<cluster>/<experiment>/ that `project` would refuse."""
    spec = project["spec"]
    kinds = {(entry["group"], entry["kind"]) for entry in spec["namespaceResourceWhitelist"]}
    namespaces: dict[str, set[str]] = {}
    for destination in spec["destinations"]:
        namespaces.setdefault(destination["name"], set()).add(destination["namespace"])
    problems = []
    for path in sorted(rendered_root.glob("*/*/*.yaml")):
        cluster = path.relative_to(rendered_root).parts[0]
        for obj in yaml.safe_load_all(path.read_text()):
            if obj is None:
                continue
            where = f"{path.relative_to(rendered_root)}: {obj.get('kind')}"
            if (group_of(obj.get("apiVersion", "")), obj.get("kind")) not in kinds:
                problems.append(f"{where}: kind not in the project's namespaceResourceWhitelist")
            namespace = obj.get("metadata", {}).get("namespace")
            if namespace is None:
                problems.append(f"{where}: no namespace (cluster-scoped or defaulted)")
            elif namespace not in namespaces.get(cluster, set()):
                problems.append(f"{where}: namespace {namespace} is not a destination on {cluster}")
    return problems
