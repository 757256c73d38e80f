"""`hpo status`: every experiment's state from Git, and from its cluster when a kubeconfig is given.

The generator tells proposed, running, finished and archived apart from the repository
(`generator.commands.status`); reading the cluster needs the Kubernetes client, which lives here,
so the command is registered from this package (`katib.cli`, an `hpo.commands` entry point).
One kubeconfig reaches one cluster: the one named by --cluster, or the one its context is named
after (Argo CD's cluster Secrets carry the names of argocd/clusters.yaml), or the only one there is.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import Any

from generator.commands.check import print_problems
from generator.commands.project import find_root
from generator.commands.status import (
    ABSENT,
    NO_CONDITION,
    ExperimentStatus,
    StatusReport,
    repository_status,
    with_cluster,
)
from generator.commands.status_view import format_json, format_table
from generator.commands.synced_ref import default_ref, resolve, synced_source
from generator.errors import ExitCode, HpoError
from generator.loading.model_errors import did_you_mean
from generator.loading.repo_config import RepoConfig, load_repo_config
from katib.client import KatibObjects, kube_api
from katib.objects import experiment_condition

READ_TIMEOUT_S = 30.0  # one list per namespace: no watch to outlast
# The label every object the generator renders carries (templates/common.libsonnet).
MANAGED_BY, GENERATOR = "app.kubernetes.io/managed-by", "hpo-generator"


class StatusUsageError(HpoError):
    exit_code = ExitCode.USAGE


def run(args: argparse.Namespace) -> int:
    if (args.context or args.cluster) and not args.kubeconfig:
        raise StatusUsageError("--context and --cluster choose what --kubeconfig reads: give it")
    root = find_root()
    repo = load_repo_config(root)
    ref = resolve(root, args.ref or default_ref(root, synced_source(root)))
    report = repository_status(root, repo, ref)
    if args.kubeconfig:
        api = kube_api(args.kubeconfig, context=args.context, timeout_s=READ_TIMEOUT_S)
        context = api.config.current_context
        cluster = cluster_read(args.cluster, context, repo)
        on = [e for e in report.experiments if e.cluster == cluster]
        seen, strays = read_conditions(api, on, known={e.name for e in report.experiments})
        report = with_cluster(report, cluster, seen, context, strays)
    print(format_json(report) if args.format == "json" else format_table(report), end="")
    return _ending(report)


def _ending(report: StatusReport) -> int:
    errors, _ = print_problems(report.problems)
    return ExitCode.PROBLEMS if errors else ExitCode.OK


def cluster_read(named: str | None, context: str | None, repo: RepoConfig) -> str:
    """The cluster of argocd/clusters.yaml that the kubeconfig reaches."""
    known = sorted(repo.clusters)
    if named is not None:
        if named not in repo.clusters:
            hint = did_you_mean(named, known) or f" (known: {', '.join(known) or 'none'})"
            raise StatusUsageError(f"--cluster {named}: not in argocd/clusters.yaml{hint}")
        return named
    if context in repo.clusters:
        return context
    if len(known) == 1:
        return known[0]
    raise StatusUsageError(
        f"--kubeconfig: its context '{context}' is not a cluster of argocd/clusters.yaml; name "
        f"the cluster it reaches with --cluster (one of: {', '.join(known) or 'none'})"
    )


def read_conditions(
    api: Any, experiments: Iterable[ExperimentStatus], known: set[str]
) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Each experiment's Experiment condition, ABSENT where its namespace has none of its name,
    and the strays: Experiments this repository's generator rendered (its managed-by label)
    whose names Git does not `known`. One list per namespace."""
    wanted = [e for e in experiments if e.namespace is not None]
    seen: dict[str, str] = {}
    strays: list[tuple[str, str, str]] = []
    for namespace in sorted({e.namespace for e in wanted}):
        listed = KatibObjects(api, namespace).listed("experiments")
        found = {o["metadata"]["name"]: o for o in listed}
        for e in wanted:
            if e.namespace == namespace:
                obj = found.get(e.name)
                seen[e.name] = ABSENT if obj is None else experiment_condition(obj) or NO_CONDITION
        for name, obj in sorted(found.items()):
            labels = obj["metadata"].get("labels") or {}
            if name not in known and labels.get(MANAGED_BY) == GENERATOR:
                strays.append((namespace, name, experiment_condition(obj) or NO_CONDITION))
    return seen, strays
