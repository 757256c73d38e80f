"""Argo CD's automated sync of one generated Application, offline: which objects it applies,
which it prunes and which it keeps, as far as an experiment's life depends on it.

The rules modelled, from Argo CD's documentation of sync options, automated sync, diffing and
the ApplicationSet's deletion policy:
- The directory source reads the folder's .yaml, .yml, .json and .jsonnet files (recurse: false
  here); any other file is not a manifest.
- Objects belong to the Application by the app.kubernetes.io/instance label (label tracking).
- Server-side apply: the controller's applied annotations become the live ones; an annotation
  it applied before and Git no longer has is removed, one another manager owns is left alone.
  With RespectIgnoreDifferences, a field of a manager listed in ignoreDifferences'
  managedFieldsManagers keeps its live value.
- With automated prune, a tracked object that is no longer in Git is deleted, unless the *live*
  object's sync-options hold Prune=false. An automated sync to no manifests at all is refused
  unless allowEmpty is set.
- An Application the ApplicationSet deletes (its folder gone) deletes nothing when
  preserveResourcesOnDeletion is set.
Only annotations' ownership is tracked: it is what the lifecycle turns on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONTROLLER = "argocd-controller"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")

Key = tuple[str, str, str]  # kind, namespace, name


@dataclass
class Live:
    obj: dict[str, Any]
    owners: dict[str, str]  # annotation -> the field manager that set it last

    @property
    def annotations(self) -> dict[str, str]:
        return self.obj["metadata"].get("annotations", {})

    def has_option(self, option: str) -> bool:
        return option in self.annotations.get(SYNC_OPTIONS, "").split(",")


@dataclass
class SyncResult:
    applied: list[Key] = field(default_factory=list)
    pruned: list[Key] = field(default_factory=list)
    kept: list[Key] = field(default_factory=list)  # not in Git, Prune=false: "requires pruning"
    refused: str | None = None


def key_of(obj: dict[str, Any]) -> Key:
    return obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]


@dataclass
class Cluster:
    objects: dict[Key, Live] = field(default_factory=dict)

    def of_application(self, name: str) -> dict[Key, Live]:
        return {
            key: live
            for key, live in self.objects.items()
            if live.obj["metadata"].get("labels", {}).get(INSTANCE_LABEL) == name
        }

    def annotate(self, key: Key, annotation: str, value: str, manager: str) -> None:
        """A merge patch by `manager` (an Update): it takes the field over."""
        live = self.objects[key]
        live.obj["metadata"].setdefault("annotations", {})[annotation] = value
        live.owners[annotation] = manager


def desired_manifests(repo: Path, application: dict[str, Any]) -> list[dict[str, Any]]:
    folder = repo / application["spec"]["source"]["path"]
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
    return [doc for p in files for doc in yaml.safe_load_all(p.read_text()) if doc]


def _ignored_managers(spec: dict[str, Any], obj: dict[str, Any]) -> set[str]:
    group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
    return {
        manager
        for rule in spec.get("ignoreDifferences", [])
        if rule.get("kind") == obj["kind"] and rule.get("group", "") == group
        for manager in rule.get("managedFieldsManagers", [])
    }


def _apply(spec: dict[str, Any], desired: dict[str, Any], old: Live | None) -> Live:
    obj = copy.deepcopy(desired)
    annotations = dict(obj["metadata"].get("annotations", {}))
    owners = dict.fromkeys(annotations, CONTROLLER)
    respect = "RespectIgnoreDifferences=true" in spec["syncPolicy"].get("syncOptions", [])
    ignored = _ignored_managers(spec, obj) if respect else set()
    for annotation, manager in (old.owners if old else {}).items():
        if manager == CONTROLLER:
            continue  # the controller's own: Git decides
        if manager in ignored or annotation not in annotations:
            annotations[annotation] = old.annotations[annotation]
            owners[annotation] = manager
    obj["metadata"]["annotations"] = annotations
    return Live(obj, owners)


def sync(cluster: Cluster, repo: Path, application: dict[str, Any]) -> SyncResult:
    """One automated sync of `application` against the checkout `repo`."""
    spec = application["spec"]
    automated = spec["syncPolicy"].get("automated")
    assert automated is not None, "the emulation models automated sync only"
    name = application["metadata"]["name"]
    desired = {key_of(obj): obj for obj in desired_manifests(repo, application)}
    tracked = cluster.of_application(name)
    result = SyncResult()
    if not desired and tracked and not automated.get("allowEmpty", False):
        result.refused = "auto-sync would delete every resource and allowEmpty is not set"
        return result
    for key, obj in desired.items():
        cluster.objects[key] = _apply(spec, obj, cluster.objects.get(key))
        result.applied.append(key)
    for key, live in tracked.items():
        if key in desired:
            continue
        if not automated.get("prune", False) or live.has_option("Prune=false"):
            result.kept.append(key)
        else:
            del cluster.objects[key]
            result.pruned.append(key)
    return result


def delete_application(cluster: Cluster, appset: dict[str, Any], name: str) -> list[Key]:
    """The ApplicationSet deletes the Application `name` (its folder is gone): what goes."""
    if appset["spec"].get("syncPolicy", {}).get("preserveResourcesOnDeletion", False):
        return []
    gone = [
        key
        for key, live in cluster.of_application(name).items()
        if not live.has_option("Delete=false")
    ]
    for key in gone:
        del cluster.objects[key]
    return gone
