"""Repository-wide configuration: the target clusters and the pinned images."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import Problem
from generator.loading.yamlload import YamlProblems, load_located
from generator.spec import DNS1123_LABEL, SecretRef

CLUSTERS_FILE = "argocd/clusters.yaml"
IMAGES_FILE = "images.yaml"
IMAGE_ROLES = ("trainer", "storage_init", "results", "suggestion")
# The cluster name of experiments that only run on one machine (`hpo tune --local`).
LOCAL_CLUSTER = "local"
# How a cluster runs trials: "Job" is the training operator's world (a batch Job, or a PyTorchJob
# for several nodes); "TrainJob" is Kubeflow Trainer v2, on the cluster's training runtime.
TRIAL_APIS = ("Job", "TrainJob")

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


@dataclass(frozen=True)
class ResultsTarget:
    git_url: str
    forge: str
    forge_api_url: str
    repo: str
    base_branch: str
    token: SecretRef
    # For an SSH git_url: the deploy key and the host keys to trust, both from Secrets.
    ssh_key: SecretRef | None = None
    ssh_known_hosts: SecretRef | None = None


@dataclass(frozen=True)
class Cluster:
    name: str
    gpu_quota: int
    default_trial_deadline_hours: float
    results: ResultsTarget | None = None
    # The most GPU-hours one experiment may cost: its worst case, or else its budget.
    max_gpu_hours_per_experiment: float | None = None
    trial_api: str = "Job"
    training_runtime: str | None = None  # the ClusterTrainingRuntime TrainJob trials use


@dataclass
class RepoConfig:
    clusters: dict[str, Cluster] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def load_repo_config(root: Path) -> RepoConfig:
    config = RepoConfig()
    _load_clusters(root, config)
    _load_images(root, config)
    return config


def _read(root: Path, name: str, config: RepoConfig):
    path = root / name
    try:
        return load_located(path.read_text(encoding="utf-8"), name)
    except OSError as e:
        config.problems.append(Problem(name, 1, 1, f"cannot read: {e.strerror}"))
    except YamlProblems as e:
        config.problems.extend(e.problems)
    return None


def _load_clusters(root: Path, config: RepoConfig) -> None:
    doc = _read(root, CLUSTERS_FILE, config)
    if doc is None:
        return
    entries = doc.data.get("clusters") if isinstance(doc.data, dict) else None
    if not isinstance(entries, list):
        config.problems.append(doc.problem((), "expected a mapping with a 'clusters' list"))
        return
    for i, entry in enumerate(entries):
        loc = ("clusters", i)
        if not isinstance(entry, dict):
            config.problems.append(doc.problem(loc, "clusters: each cluster is a mapping"))
            continue
        name, quota = entry.get("name"), entry.get("gpu_quota")
        deadline = entry.get("default_trial_deadline_hours", 24)
        max_gpu_hours = entry.get("max_gpu_hours_per_experiment")
        trial_api = entry.get("trial_api", "Job")
        runtime = entry.get("training_runtime")
        if not isinstance(name, str) or not DNS1123_LABEL.match(name) or name == LOCAL_CLUSTER:
            config.problems.append(
                doc.problem(loc + ("name",), f"name: invalid cluster name {name!r}")
            )
            continue
        if name in config.clusters:
            config.problems.append(doc.problem(loc + ("name",), f"cluster '{name}' listed twice"))
            continue
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
            config.problems.append(
                doc.problem(loc + ("gpu_quota",), "gpu_quota must be a whole number >= 0")
            )
            continue
        if not isinstance(deadline, int | float) or deadline <= 0:
            config.problems.append(
                doc.problem(
                    loc + ("default_trial_deadline_hours",),
                    "default_trial_deadline_hours must be a positive number",
                )
            )
            continue
        if max_gpu_hours is not None and (
            not isinstance(max_gpu_hours, int | float)
            or isinstance(max_gpu_hours, bool)
            or max_gpu_hours <= 0
        ):
            config.problems.append(
                doc.problem(
                    loc + ("max_gpu_hours_per_experiment",),
                    "max_gpu_hours_per_experiment must be a positive number",
                )
            )
            continue
        if trial_api not in TRIAL_APIS:
            config.problems.append(
                doc.problem(
                    loc + ("trial_api",),
                    f"trial_api must be one of {', '.join(TRIAL_APIS)}, not {trial_api!r}",
                )
            )
            continue
        if (trial_api == "TrainJob") != (runtime is not None) or (
            runtime is not None
            and (not isinstance(runtime, str) or not DNS1123_LABEL.match(runtime))
        ):
            where = "training_runtime" if runtime is not None else "trial_api"
            config.problems.append(
                doc.problem(
                    loc + (where,),
                    "a TrainJob cluster names its ClusterTrainingRuntime in training_runtime "
                    "(a DNS-1123 label, e.g. hpo-torch-distributed); other clusters set none",
                )
            )
            continue
        config.clusters[name] = Cluster(
            name,
            quota,
            float(deadline),
            _results(doc, loc, entry, config),
            None if max_gpu_hours is None else float(max_gpu_hours),
            trial_api,
            runtime,
        )


def _results(doc, loc, entry, config) -> ResultsTarget | None:
    results = entry.get("results")
    if results is None:
        return None
    keys = ("git_url", "forge", "forge_api_url", "repo", "base_branch")
    if not isinstance(results, dict) or any(not isinstance(results.get(k), str) for k in keys):
        config.problems.append(
            doc.problem(
                loc + ("results",), f"results needs string keys {', '.join(keys)} and token"
            )
        )
        return None
    if results["forge"] not in ("github", "gitlab"):
        config.problems.append(
            doc.problem(loc + ("results", "forge"), "forge must be github or gitlab")
        )
        return None
    try:
        token = SecretRef.model_validate(results.get("token"))
    except ValueError:
        config.problems.append(
            doc.problem(loc + ("results", "token"), "token must be {secret: NAME, key: KEY}")
        )
        return None
    ssh: dict[str, SecretRef | None] = {}
    for name in ("ssh_key", "ssh_known_hosts"):
        try:
            ssh[name] = (
                None if results.get(name) is None else SecretRef.model_validate(results[name])
            )
        except ValueError:
            config.problems.append(
                doc.problem(loc + ("results", name), f"{name} must be {{secret: NAME, key: KEY}}")
            )
            return None
    if (ssh["ssh_key"] is None) != (ssh["ssh_known_hosts"] is None):
        config.problems.append(
            doc.problem(
                loc + ("results",),
                "ssh_key and ssh_known_hosts go together: an SSH "
                "push must know the host key it trusts",
            )
        )
        return None
    return ResultsTarget(token=token, **ssh, **{k: results[k] for k in keys})


def _load_images(root: Path, config: RepoConfig) -> None:
    doc = _read(root, IMAGES_FILE, config)
    if doc is None:
        return
    if not isinstance(doc.data, dict):
        config.problems.append(doc.problem((), "expected a mapping of role to image"))
        return
    for role in IMAGE_ROLES:
        if not isinstance(doc.data.get(role), str):
            config.problems.append(doc.problem((), f"missing image for '{role}'"))
    for role, reference in doc.data.items():
        if role not in IMAGE_ROLES:
            config.problems.append(
                doc.problem((role,), f"unknown image role '{role}'", at_key=True)
            )
        elif isinstance(reference, str):
            if (why := image_pin_problem(reference)) is not None:
                config.problems.append(doc.problem((role,), why))
            config.images[role] = reference
