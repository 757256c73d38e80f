"""Repository-wide configuration: the target clusters and the pinned images.

`argocd/clusters.yaml` and `images.yaml` are read like a definition: through the YAML 1.2 loader
into strict models, so a misspelt key is an error at its own line that names the key it resembles
(a silently ignored `max_gpu_hour_per_experiment` would leave an experiment without a GPU-hour
cap), and every mistake of a file is reported in one run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from generator.errors import Problem
from generator.loading.model_errors import did_you_mean, located_problems
from generator.loading.yamlload import LocatedDocument, YamlProblems, load_located
from generator.spec import DNS1123_LABEL, Strict, secret_references
from generator.spec.base import Credential, PositiveNumber, SecretKey, SecretName, is_dns_subdomain
from generator.validate import dotted

CLUSTERS_FILE = "argocd/clusters.yaml"
IMAGES_FILE = "images.yaml"
# The cluster name of experiments that only run on one machine (`hpo tune --local`).
LOCAL_CLUSTER = "local"

_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


def image_pin_problem(reference: str) -> str | None:
    """Why an image reference is not pinned, or None when it is."""
    match = _IMAGE.match(reference)
    if not match:
        return f"'{reference}' is not a valid image reference"
    if not match["tag"] and not match["digest"]:
        return f"image '{reference}' is not pinned: add a version tag or an @sha256 digest"
    if match["tag"] == "latest" and not match["digest"]:
        return f"image '{reference}' uses 'latest': pin a version tag or an @sha256 digest"
    return None


def _pinned(reference: str) -> str:
    if (why := image_pin_problem(reference)) is not None:
        raise ValueError(why)
    return reference


def _label(value: str) -> str:
    if not DNS1123_LABEL.match(value) or len(value) > 63:
        raise ValueError(f"'{value}' is not a DNS-1123 label (lowercase letters, digits and '-')")
    return value


def _subdomain(value: str) -> str:
    if not is_dns_subdomain(value):
        raise ValueError(
            f"'{value}' is not a DNS-1123 subdomain (lowercase letters, digits, '-', '.')"
        )
    return value


Label = Annotated[StrictStr, AfterValidator(_label)]
ObjectName = Annotated[StrictStr, AfterValidator(_subdomain)]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]
Hours = Annotated[PositiveNumber, AfterValidator(float)]
PinnedImage = Annotated[StrictStr, AfterValidator(_pinned)]


class ResultsTarget(Strict):
    """Where the results Job pushes its branch and opens the pull request."""

    git_url: StrictStr
    forge: Literal["github", "gitlab"]
    forge_api_url: StrictStr
    repo: StrictStr
    base_branch: StrictStr
    token: Credential
    # For an SSH git_url: the deploy key and the host keys to trust, both from Secrets.
    ssh_key: Credential | None = None
    ssh_known_hosts: Credential | None = None

    @model_validator(mode="after")
    def _ssh_pair(self) -> ResultsTarget:
        if (self.ssh_key is None) != (self.ssh_known_hosts is None):
            raise ValueError(
                "ssh_key and ssh_known_hosts go together: an SSH push must know the host key "
                "it trusts"
            )
        return self


class StoreSecret(Strict):
    """Where one Secret comes from in the store: each of its keys that the manifests reference
    becomes a remoteRef {key: remote_key, property}."""

    remote_key: NonEmpty  # the secret's key (path, name) in the store
    # Secret key -> the property that holds it; a key not listed is read from the property of
    # its own name, and null reads the remote secret's whole value (a store of plain strings).
    properties: dict[SecretKey, NonEmpty | None] = Field(default_factory=dict)


class SecretStore(Strict):
    """The External Secrets Operator store a cluster's Secrets come from: each experiment gets
    an ExternalSecret per Secret its objects reference, instead of a Secret created by hand
    (generator.rendering.external_secrets)."""

    kind: Literal["SecretStore", "ClusterSecretStore"]
    name: ObjectName
    secrets: dict[SecretName, StoreSecret]


class Cluster(Strict):
    """One cluster Argo CD deploys experiments to."""

    name: Label
    gpu_quota: Annotated[StrictInt, Field(ge=0)]  # GPUs held at once by all its experiments
    default_trial_deadline_hours: Hours = 24.0
    results: ResultsTarget | None = None
    # The most GPU-hours one experiment may cost: its worst case, or else its budget.
    max_gpu_hours_per_experiment: Hours | None = None
    # How the cluster runs trials: "Job" is the training operator's world (a batch Job, or a
    # PyTorchJob for several nodes); "TrainJob" is Kubeflow Trainer v2, on its training runtime.
    trial_api: Literal["Job", "TrainJob"] = "Job"
    # The ClusterTrainingRuntime TrainJob trials use; checked even when absent (validate_default).
    training_runtime: Label | None = Field(None, validate_default=True)
    # Where the Secrets the experiments reference come from; None: created by hand.
    secret_store: SecretStore | None = None

    @field_validator("name")
    @classmethod
    def _not_local(cls, value: str) -> str:
        if value == LOCAL_CLUSTER:
            raise ValueError(f"'{LOCAL_CLUSTER}' is reserved for experiments of hpo tune --local")
        return value

    @field_validator("training_runtime")
    @classmethod
    def _runtime_for_trainjob(cls, value: str | None, info) -> str | None:
        trial_api = info.data.get("trial_api")  # absent when trial_api itself is wrong
        if trial_api is not None and (trial_api == "TrainJob") != (value is not None):
            raise ValueError(
                "a TrainJob cluster names its ClusterTrainingRuntime in training_runtime "
                "(a DNS-1123 label, e.g. hpo-torch-distributed); other clusters set none"
            )
        return value


class ClusterList(Strict):
    """argocd/clusters.yaml."""

    clusters: list[Cluster]


class PinnedImages(Strict):
    """images.yaml: the image of each role, pinned by tag or digest."""

    trainer: PinnedImage
    storage_init: PinnedImage
    results: PinnedImage
    suggestion: PinnedImage


IMAGE_ROLES = tuple(PinnedImages.model_fields)


@dataclass
class RepoConfig:
    clusters: dict[str, Cluster] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # argocd/clusters.yaml as read, and each cluster's index in it: the checks that need the
    # whole repository (generator.checks.secret_store) locate their findings there.
    clusters_document: LocatedDocument | None = None
    cluster_index: dict[str, int] = field(default_factory=dict)

    @property
    def has_every_image(self) -> bool:
        """Whether images.yaml names an image for every role: rendering needs them all."""
        return all(role in self.images for role in IMAGE_ROLES)

    def without_secret_stores(self) -> RepoConfig:
        """The clusters as if their Secrets were created by hand: what `hpo tune --local`
        renders, since a local run reads Secrets from its own environment, by the names the
        definition gives."""
        clusters = {
            n: c.model_copy(update={"secret_store": None}) for n, c in self.clusters.items()
        }
        return RepoConfig(
            clusters,
            dict(self.images),
            list(self.problems),
            self.clusters_document,
            dict(self.cluster_index),
        )


def load_repo_config(root: Path) -> RepoConfig:
    config = RepoConfig()
    _load_clusters(root, config)
    _load_images(root, config)
    return config


def _read(root: Path, name: str, config: RepoConfig) -> LocatedDocument | None:
    try:
        return load_located((root / name).read_text(encoding="utf-8"), name)
    except (OSError, UnicodeDecodeError) as e:
        config.problems.append(Problem(name, 1, 1, f"cannot read: {getattr(e, 'strerror', e)}"))
    except YamlProblems as e:
        config.problems.extend(e.problems)
    return None


def _validated(model: type[BaseModel], doc: LocatedDocument, config: RepoConfig):
    """The document as `model`, or None after adding every one of its problems to `config`."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as e:
        config.problems += located_problems(e, doc, model)
        return None


def _load_clusters(root: Path, config: RepoConfig) -> None:
    doc = _read(root, CLUSTERS_FILE, config)
    if doc is None:
        return
    config.clusters_document = doc
    listed = _validated(ClusterList, doc, config)
    entries = doc.data.get("clusters") if isinstance(doc.data, dict) else None
    entries = entries if isinstance(entries, list) else []
    if listed is not None:
        clusters: list[Cluster | None] = list(listed.clusters)
    else:  # keep the clusters that are right, so definitions on them are still checked
        clusters = [_valid_cluster(entry) for entry in entries]
    first: dict[str, int] = {}  # each name's first line
    for i, (entry, cluster) in enumerate(zip(entries, clusters, strict=True)):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in first:
            where = ("clusters", i, "name")
            message = f"cluster '{name}' listed twice (first on line {first[name]})"
            config.problems.append(doc.problem(where, f"{dotted(where)}: {message}"))
            continue
        if isinstance(name, str):
            first[name] = doc.position(("clusters", i, "name"))[0]
        if cluster is not None:
            config.clusters[cluster.name] = cluster
            config.cluster_index[cluster.name] = i
            config.problems += _uncovered_results_secrets(doc, i, cluster)


def _uncovered_results_secrets(doc: LocatedDocument, i: int, cluster: Cluster) -> list[Problem]:
    """The results Job's Secrets that the cluster's store does not map, at their own lines."""
    store = cluster.secret_store
    if store is None or cluster.results is None:
        return []
    return [
        doc.problem(
            ("clusters", i, *loc, "secret"),
            f"{dotted(('clusters', i, *loc))}: {uncovered_message(cluster, ref.secret)}",
        )
        for loc, ref in secret_references(cluster.results, ("results",))
        if ref.secret not in store.secrets
    ]


def uncovered_message(cluster: Cluster, secret: str) -> str:
    """Why a Secret a cluster's objects would reference cannot be rendered there."""
    store = cluster.secret_store
    return (
        f"Secret '{secret}' is not in the secret_store of cluster '{cluster.name}' "
        f"({store.kind} {store.name}): map it under secret_store.secrets in {CLUSTERS_FILE}"
        + did_you_mean(secret, store.secrets)
    )


def _valid_cluster(entry: object) -> Cluster | None:
    try:
        return Cluster.model_validate(entry)
    except ValidationError:
        return None  # reported with the whole file


def _load_images(root: Path, config: RepoConfig) -> None:
    doc = _read(root, IMAGES_FILE, config)
    if doc is None:
        return
    images = _validated(PinnedImages, doc, config)
    if images is not None:
        config.images = images.model_dump()
    elif isinstance(doc.data, dict):
        # What can still be rendered: an unpinned reference is also refused in what it renders.
        config.images = {
            role: doc.data[role] for role in IMAGE_ROLES if isinstance(doc.data.get(role), str)
        }
