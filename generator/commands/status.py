"""`hpo status`: where every experiment in experiments/ stands, per cluster, and the GPUs it holds.

The folder says whether an experiment finished or was archived (`generator.loading.lifecycle`);
the revision Argo CD deploys says whether one that may still run trials is running (deployed)
or proposed (not merged yet). Both count against their cluster's gpu_quota, as `hpo check`
counts them: a running one holds its GPUs, a proposed one will hold them once merged.

The cluster, when it is read (the `katib` package does that for `hpo status --kubeconfig`),
refines what Git cannot know: whether Argo CD synced a merge yet, and whether an Experiment
finished before its results were merged. Its findings arrive here as Katib condition names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from generator.checks.cost import gpus_per_trial
from generator.commands.immutability import git_show
from generator.commands.project import (
    DEFINITION_FILE,
    EXPERIMENTS_DIR,
    definition_paths,
    display,
    lifecycle_of,
)
from generator.commands.quota import Demand, demand_of
from generator.commands.synced_ref import Ref, files_at
from generator.errors import Problem
from generator.loading.definition import load_definition
from generator.loading.lifecycle import (
    ARCHIVE_FILE,
    Lifecycle,
    Stage,
    State,
    read_archive_text,
)
from generator.loading.repo_config import CLUSTERS_FILE, LOCAL_CLUSTER, RepoConfig
from generator.spec import ExperimentSpec
from generator.spec.results_file import RESULTS_FILE, ResultsFile

# What the cluster shows of an experiment: one of Katib's condition types, or these.
ABSENT = "absent"  # no Experiment of that name in its namespace
NO_CONDITION = "no condition yet"  # created, not yet seen by Katib's controller
FINISHED_CONDITIONS = ("Succeeded", "Failed")
TRAIN_RUNTIME = "train_runtime"  # seconds of trainer.train(), a cost metric of every trial


class Holding(StrEnum):
    HELD = "held"  # deployed: its parallel trials may hold the GPUs now
    ONCE_MERGED = "once merged"  # proposed: it will hold them when its pull request merges
    NONE = "none"  # finished, archived, or local


@dataclass(frozen=True)
class GpuHours:
    """What an experiment's trials cost in GPU-hours, as far as its results.yaml says.

    `gpu_hours`: the budget's own account (each trial's wall time x its GPUs). `trial_hours`:
    the budget's trial-hours x GPUs per trial, the same account in another unit. `train_runtime`:
    no budget, so only the trials' own training time is known; pod start, model loading and
    failed trials are not in it, so it is a lower bound. `no_gpus`: the trials requested none.
    """

    value: float
    basis: Literal["gpu_hours", "trial_hours", "train_runtime", "no_gpus"]
    gpus_per_trial: int

    @property
    def lower_bound(self) -> bool:
        return self.basis == "train_runtime"

    def __str__(self) -> str:
        value = f"{self.value:.2f}"
        if self.basis == "trial_hours":
            return f"{value} (trial-hours x {self.gpus_per_trial})"
        if self.basis == "train_runtime":
            return f">= {value} (train_runtime x {self.gpus_per_trial})"
        return "0 (no GPUs)" if self.basis == "no_gpus" else value


def gpu_hours(results: ResultsFile | None, spec: ExperimentSpec | None) -> GpuHours | None:
    """GPU-hours spent, where the results say; None where they do not."""
    if results is None or spec is None:
        return None
    per_trial = gpus_per_trial(spec)
    budget = results.budget
    if per_trial == 0:
        return GpuHours(0.0, "no_gpus", 0)
    if budget is not None and budget.unit == "gpu_hours":
        return GpuHours(float(budget.spent), "gpu_hours", per_trial)
    if budget is not None:  # trial_hours: the same wall times, not yet times the GPUs
        return GpuHours(round(budget.spent * per_trial, 4), "trial_hours", per_trial)
    seconds = [t.metrics[TRAIN_RUNTIME] for t in results.trials if TRAIN_RUNTIME in t.metrics]
    if not seconds:
        return None
    return GpuHours(round(sum(seconds) / 3600 * per_trial, 4), "train_runtime", per_trial)


@dataclass(frozen=True)
class OnCluster:
    """The Experiment as the cluster shows it, and what that means beside Git."""

    condition: str  # a Katib condition type, ABSENT or NO_CONDITION
    note: str | None = None

    def __str__(self) -> str:
        return self.condition + (f": {self.note}" if self.note else "")


def cluster_note(state: State, stage: Stage | None, condition: str, ref: str) -> str | None:
    """What the cluster's view adds to the state Git gives, or None when they agree."""
    present, finished = condition != ABSENT, condition in FINISHED_CONDITIONS
    if state is State.RUNNING:
        if not present:
            return "not synced yet"
        return "finished on the cluster, results not merged yet" if finished else None
    if state is State.PROPOSED:
        return f"on the cluster, though not at {ref}" if present else None
    if state is State.FINISHED:
        if not present:
            return "gone from the cluster without an archive"
        if not finished:
            return "still runs trials, though its results are merged and the quota frees its GPUs"
        return None
    if not present:
        return "deleted from the cluster"
    if stage is Stage.RELEASE:
        return "released; it leaves the cluster at the archive's delete stage"
    return "archive not synced yet"


@dataclass(frozen=True)
class ExperimentStatus:
    name: str
    cluster: str | None  # None when the definition cannot be read
    state: State | None  # None likewise
    stage: Stage | None = None  # of an archive
    demand: Demand | None = None
    gpu_hours: GpuHours | None = None
    namespace: str | None = None
    on_cluster: OnCluster | None = None
    # Lifecycle files that cannot be read: the state is what it would be without them.
    unreadable: tuple[str, ...] = ()
    # Whether it holds GPUs on the revision Argo CD deploys (or will, once merged): neither
    # finished nor archived past the release stage there (generator.loading.lifecycle).
    holds_gpus: bool = False
    # Lifecycle files of the working tree that the deployed revision lacks: not merged yet.
    unmerged: tuple[str, ...] = ()

    @property
    def holding(self) -> Holding:
        if self.cluster == LOCAL_CLUSTER or self.demand is None or not self.demand.gpus:
            return Holding.NONE
        if not self.holds_gpus:
            return Holding.NONE
        # Running, released by a forced archive and running until its delete stage, or
        # finished or archived in a change that is not merged yet.
        return Holding.ONCE_MERGED if self.state is State.PROPOSED else Holding.HELD

    @property
    def held_gpus(self) -> int:
        return self.demand.gpus if self.demand is not None and self.holding != Holding.NONE else 0


@dataclass(frozen=True)
class ClusterQuota:
    """A cluster's gpu_quota against what its experiments hold and will hold once merged."""

    name: str
    gpu_quota: int | None  # None: not in argocd/clusters.yaml (or local)
    held: int
    once_merged: int

    @property
    def left(self) -> int | None:
        return None if self.gpu_quota is None else self.gpu_quota - self.held

    @property
    def left_once_merged(self) -> int | None:
        return None if self.gpu_quota is None else self.gpu_quota - self.held - self.once_merged


@dataclass
class StatusReport:
    ref: Ref
    experiments: list[ExperimentStatus]  # by name
    quotas: list[ClusterQuota]  # by cluster name
    problems: list[Problem] = field(default_factory=list)
    read_cluster: str | None = None  # the cluster whose Experiments were read, if any
    context: str | None = None  # the kubeconfig context it was read through
    # Experiments of this repository's generator on that cluster that no folder in Git names:
    # (namespace, name, condition), as left behind by a folder deleted instead of archived.
    strays: list[tuple[str, str, str]] = field(default_factory=list)

    def on(self, cluster: str | None) -> list[ExperimentStatus]:
        return [e for e in self.experiments if e.cluster == cluster]


def _stage_at(root: Path, ref: Ref, name: str, merged: set[str]) -> Stage | None:
    """The archive stage on the deployed revision, if it has one."""
    if ARCHIVE_FILE not in merged:
        return None
    where = f"{EXPERIMENTS_DIR}/{name}/{ARCHIVE_FILE}"
    record = read_archive_text(git_show(root, ref.commit, where) or "", where)[0]
    return None if record is None else record.stage


def _deployed_lifecycle(
    root: Path, ref: Ref, name: str, merged: set[str], lifecycle: Lifecycle
) -> tuple[bool, tuple[str, ...]]:
    """Whether the deployed revision leaves the experiment holding its GPUs, and which of the
    working tree's lifecycle files it lacks (or holds at another stage): not merged yet."""
    stage = _stage_at(root, ref, name, merged)
    holds = RESULTS_FILE not in merged and stage in (None, Stage.RELEASE)
    unmerged = []
    if lifecycle.finished and RESULTS_FILE not in merged:
        unmerged.append(RESULTS_FILE)
    if lifecycle.archived and stage is not lifecycle.stage:
        unmerged.append(ARCHIVE_FILE)
    return holds, tuple(unmerged)


def _status(
    path: Path, root: Path, ref: Ref, at_ref: dict[str, set[str]]
) -> tuple[ExperimentStatus, list[Problem]]:
    name = path.parent.name
    loaded = load_definition(path, display(path, root))
    spec = loaded.spec or loaded.salvaged
    lifecycle = lifecycle_of(root, name, loaded)
    # A definition that is partly broken is still placed, and its problems still reported.
    problems = [*lifecycle.problems, *loaded.problems]
    if spec is None:  # without its cluster there is nothing to place it under
        return ExperimentStatus(name, None, None), problems
    merged = at_ref.get(name, set())
    deployed = DEFINITION_FILE in merged
    state = lifecycle.state(deployed=deployed)
    holds, unmerged = lifecycle.may_run_trials, ()
    if deployed:
        holds, unmerged = _deployed_lifecycle(root, ref, name, merged, lifecycle)
    return (
        ExperimentStatus(
            name,
            spec.cluster,
            state,
            stage=lifecycle.stage,
            demand=demand_of(spec),
            holds_gpus=holds,
            unmerged=unmerged,
            gpu_hours=gpu_hours(lifecycle.results, spec),
            namespace=spec.namespace,
            unreadable=tuple(sorted({p.path for p in lifecycle.problems if p.is_error})),
        ),
        problems,
    )


def repository_status(root: Path, repo: RepoConfig, ref: Ref) -> StatusReport:
    """Every experiment of experiments/ (in the working tree), deployed where its definition is
    at `ref`, and every cluster's quota left."""
    at_ref = files_at(root, ref, EXPERIMENTS_DIR)
    # The clusters' quotas are read here; images.yaml's problems are hpo check's to report.
    experiments = []
    problems = [p for p in repo.problems if p.path == CLUSTERS_FILE]
    for path in definition_paths(root):
        status, found = _status(path, root, ref, at_ref)
        experiments.append(status)
        problems += found
    experiments.sort(key=lambda e: e.name)
    return StatusReport(ref, experiments, _quotas(experiments, repo), sorted(set(problems)))


def _quotas(experiments: list[ExperimentStatus], repo: RepoConfig) -> list[ClusterQuota]:
    names = set(repo.clusters) | {e.cluster for e in experiments if e.cluster is not None}
    quotas = []
    for name in sorted(names):
        cluster = repo.clusters.get(name)
        on = [e for e in experiments if e.cluster == name]
        quotas.append(
            ClusterQuota(
                name,
                cluster.gpu_quota if cluster is not None else None,
                sum(e.held_gpus for e in on if e.holding is Holding.HELD),
                sum(e.held_gpus for e in on if e.holding is Holding.ONCE_MERGED),
            )
        )
    return quotas


def with_cluster(
    report: StatusReport,
    cluster: str,
    seen: Mapping[str, str],
    context: str | None,
    strays: list[tuple[str, str, str]],
) -> StatusReport:
    """The report with what `cluster` shows of each of its experiments: `seen` maps an
    experiment's name to its Experiment's condition (ABSENT when there is none); `strays` are
    the cluster's Experiments that Git does not know."""
    experiments = []
    for e in report.experiments:
        condition = seen.get(e.name) if e.cluster == cluster else None
        if condition is not None and e.state is not None:
            note = cluster_note(e.state, e.stage, condition, report.ref.name)
            e = replace(e, on_cluster=OnCluster(condition, note))
        experiments.append(e)
    return replace(
        report,
        experiments=experiments,
        read_cluster=cluster,
        context=context,
        strays=sorted(strays),
    )
