"""The Secrets of an experiment on a cluster with a secret store: ExternalSecrets and their names.

A cluster's `secret_store` (argocd/clusters.yaml) maps each Secret name the manifests reference
to where it lives in the store. For such a cluster every experiment gets its own ExternalSecrets
(external-secrets.io/v1), one per Secret it references, in its namespace, and its pods and Jobs
read the Secrets those create. The definition still names `{secret, key}`: only the rendered
names change.

Why a Secret of its own per experiment: two experiments in one namespace would otherwise both
claim one Secret (ESO refuses a second owner, Argo CD reports a shared resource), and an
experiment's Secrets should go when its objects go (creationPolicy Owner: the Secret is the
ExternalSecret's, and is deleted with it).

The name rule, for the ExternalSecret and the Secret it creates alike:
`<experiment>.<secret>`, e.g. `llama-3-2-1b-imdb.hf-token`. An experiment name is a DNS label
(no dots) and a Secret name a DNS subdomain, so the first dot tells the two apart: two
(experiment, Secret) pairs never share a name, whatever names they use. Names longer than 63
characters, a DNS label's limit, keep their first 52 characters and end in `-` and 10 hex digits
of the full name's sha256: still distinct, still a valid Secret name, and short enough for ESO
releases that cannot reconcile an ExternalSecret of more than 92 characters.
"""

from __future__ import annotations

import hashlib

from generator.loading.repo_config import Cluster
from generator.spec import ExperimentSpec, SecretRef, secret_references

MAX_NAME = 63
DIGEST = 10  # hex digits of sha256 that end a shortened name


def rendered_secret_name(experiment: str, secret: str) -> str:
    """The name of an experiment's copy of a Secret (module docstring: the name rule)."""
    name = f"{experiment}.{secret}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:DIGEST]
    return f"{name[: MAX_NAME - DIGEST - 1].rstrip('.-')}-{digest}"


def referenced_secrets(spec: ExperimentSpec, cluster: Cluster | None) -> dict[str, list[str]]:
    """Secret name -> the keys the experiment's objects read from it, both sorted: the
    definition's references and, where the cluster runs a results Job, its Secrets."""
    references: list[SecretRef] = [ref for _, ref in secret_references(spec)]
    if cluster is not None and cluster.results is not None:
        references += [ref for _, ref in secret_references(cluster.results)]
    keys: dict[str, set[str]] = {}
    for ref in references:
        keys.setdefault(ref.secret, set()).add(ref.key)
    return {secret: sorted(keys[secret]) for secret in sorted(keys)}


def secret_names(spec: ExperimentSpec, cluster: Cluster | None) -> dict[str, str]:
    """Secret name in the definition -> the name the rendered objects use. Empty without a
    store, and a Secret the store does not map keeps its name (hpo check refuses it)."""
    store = None if cluster is None else cluster.secret_store
    if store is None:
        return {}
    return {
        secret: rendered_secret_name(spec.name, secret)
        for secret in referenced_secrets(spec, cluster)
        if secret in store.secrets
    }


def external_secrets(spec: ExperimentSpec, cluster: Cluster | None) -> list[dict]:
    """The parameters of templates/external-secret.libsonnet, one per mapped Secret; the
    template adds the experiment's name, namespace and sync wave."""
    names = secret_names(spec, cluster)
    if not names:
        return []
    store = cluster.secret_store
    params = []
    for secret, keys in referenced_secrets(spec, cluster).items():
        if secret not in names:
            continue
        entry = store.secrets[secret]
        data = []
        for key in keys:
            remote = {"key": entry.remote_key}
            prop = entry.properties.get(key, key)
            if prop is not None:
                remote["property"] = prop
            data.append({"secretKey": key, "remoteRef": remote})
        store_ref = {"kind": store.kind, "name": store.name}
        params.append({"name": names[secret], "store": store_ref, "data": data})
    return params
