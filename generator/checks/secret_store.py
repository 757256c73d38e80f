"""Secrets from a cluster's secret store: every Secret a definition references must be mapped.

On a cluster with a `secret_store` (argocd/clusters.yaml) the rendered objects read their
Secrets from ExternalSecrets, one per Secret the experiment references, and the store mapping
says where each comes from. A reference the mapping does not cover would render a pod waiting
for a Secret nobody creates, so it is refused at its own line. The results Job's Secrets are
checked with the cluster, at their lines of argocd/clusters.yaml (generator.loading.repo_config).
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.loading.repo_config import Cluster, uncovered_message
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
