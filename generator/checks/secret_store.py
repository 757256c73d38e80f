"""Secrets from a cluster's secret store: every Secret a definition references must be mapped.

On a cluster with a `secret_store` (argocd/clusters.yaml) the rendered objects read their
Secrets from ExternalSecrets, one per Secret the experiment references, and the store mapping
says where each comes from. A reference the mapping does not cover would render a pod waiting
for a Secret nobody creates, so it is refused at its own line. The results Job's Secrets are
checked with the cluster, at their lines of argocd/clusters.yaml (generator.loading.repo_config).

The other way round, a `properties` key that nothing on the cluster reads is most likely a
misspelt one: the key it was meant for is then read from the property of its own name, and the
ExternalSecret fails only on the cluster. Whether anything reads a key depends on every
definition of the repository, so that warning is computed with the repository-wide checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from generator.errors import Problem
from generator.loading.definition import LoadedDefinition
from generator.loading.lifecycle import Lifecycle
from generator.loading.model_errors import did_you_mean
from generator.loading.repo_config import Cluster, RepoConfig, uncovered_message
from generator.spec import ExperimentSpec, secret_references
from generator.validate import dotted


def check_secret_store(spec: ExperimentSpec, cluster: Cluster) -> Iterator[tuple[tuple, str, str]]:
    """(location, message, severity) for each reference the cluster's store does not map."""
    store = cluster.secret_store
    if store is None:
        return
    for loc, ref in secret_references(spec):
        if ref.secret not in store.secrets:
            where = loc + ("secret",)
            yield where, f"{dotted(where)}: {uncovered_message(cluster, ref.secret)}", "error"


def unread_properties(
    definitions: list[tuple[LoadedDefinition, Lifecycle]], repo: RepoConfig
) -> list[Problem]:
    """A warning at each `properties` key of a cluster's store that no reference there reads:
    neither a definition on the cluster (the repository's every one, a deleted archive's
    excepted, since it renders nothing) nor the cluster's results target."""
    doc = repo.clusters_document
    if doc is None:
        return []
    read: dict[tuple[str, str], set[str]] = defaultdict(set)  # (cluster, Secret) -> keys read
    for loaded, lifecycle in definitions:
        spec = loaded.spec or loaded.salvaged
        if spec is not None and not lifecycle.deleted:
            for _, ref in secret_references(spec):
                read[spec.cluster, ref.secret].add(ref.key)
    problems = []
    for name, cluster in repo.clusters.items():
        if cluster.secret_store is None:
            continue
        for _, ref in secret_references(cluster.results):
            read[name, ref.secret].add(ref.key)
        for secret, mapped in cluster.secret_store.secrets.items():
            keys = read[name, secret]
            for key in sorted(set(mapped.properties) - keys):
                index = repo.cluster_index[name]
                where = ("clusters", index, "secret_store", "secrets", secret, "properties", key)
                message = (
                    f"{dotted(where)}: no experiment on cluster '{name}' nor its results Job "
                    f"reads key '{key}' of Secret '{secret}', so this property is never used "
                    "(a key not listed is read from the property of its own name)"
                    + did_you_mean(key, keys)
                )
                problems.append(doc.problem(where, message, at_key=True, severity="warning"))
    return problems
