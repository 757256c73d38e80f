"""A cluster's gpu_quota against every experiment that can still run trials on it.

Each definition alone is compared with the quota by `checks`; here the experiments that share a
cluster are added up: their parallel trials x GPUs per node x nodes, all at once. An experiment
holds its GPUs from the merge of its definition until its results are merged or it is archived
(generator.loading.lifecycle); finished and archived experiments do not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.checks.cost import gpus_per_trial
from generator.checks.definition import demand_location, gpu_demand
from generator.loading.definition import LoadedDefinition
from generator.loading.lifecycle import Lifecycle
from generator.loading.repo_config import LOCAL_CLUSTER, RepoConfig
from generator.spec import ExperimentSpec
from generator.validate import dotted

if TYPE_CHECKING:
    from generator.commands.project import DefinitionReport


@dataclass(frozen=True)
class Demand:
    name: str
    cluster: str
    parallel: int
    gpus_per_trial: int

    @property
    def gpus(self) -> int:
        return self.parallel * self.gpus_per_trial

    def __str__(self) -> str:
        per_trial = f"{self.gpus_per_trial} GPU" + ("s" if self.gpus_per_trial != 1 else "")
        return f"{self.name} {self.gpus} ({self.parallel} parallel x {per_trial})"


def demand_of(spec: ExperimentSpec) -> Demand:
    """The GPUs an experiment holds at once while it can run trials."""
    return Demand(
        spec.name, spec.cluster, spec.effective_parallel_trial_count, gpus_per_trial(spec)
    )


def _spec(loaded: LoadedDefinition) -> ExperimentSpec | None:
    return loaded.spec or loaded.salvaged


def shared_quota(
    checked: list[DefinitionReport],
    others: list[tuple[LoadedDefinition, Lifecycle]],
    repo: RepoConfig,
) -> None:
    """Add an error to each checked definition on a cluster whose experiments that can still
    run trials together want more GPUs at once than its gpu_quota. `others` are the repository's
    definitions that were not checked: they count, and a checked definition of the same name
    takes the place of one."""
    by_name: dict[str, Demand] = {}
    for loaded, lifecycle in [(r.loaded, r.lifecycle) for r in checked] + others:
        spec = _spec(loaded)
        if spec is not None and spec.cluster != LOCAL_CLUSTER and spec.name not in by_name:
            by_name[spec.name] = demand_of(spec) if lifecycle.may_run_trials else _freed(spec)
    for report in checked:
        spec, doc = report.loaded.spec, report.loaded.document
        cluster = repo.clusters.get(spec.cluster) if spec is not None else None
        if cluster is None or doc is None or not gpu_demand(spec):
            continue
        if not report.lifecycle.may_run_trials:
            continue  # finished or archived: it holds nothing
        if gpu_demand(spec) > cluster.gpu_quota:
            continue  # refused on its own already
        sharing = sorted(
            (d for d in by_name.values() if d.cluster == cluster.name and d.gpus),
            key=lambda d: d.name,
        )
        total = sum(d.gpus for d in sharing)
        if total <= cluster.gpu_quota:
            continue
        loc = demand_location(spec)
        others_held = [d for d in sharing if d.name != spec.name]
        report.problems.append(
            doc.problem(
                loc,
                f"{dotted(loc)}: the experiments on cluster '{cluster.name}' that can still run "
                f"trials could hold {total} GPUs at once, more than its gpu_quota of "
                f"{cluster.gpu_quota}: {', '.join(map(str, sharing))}; lower "
                "parallel_trial_count here, or free GPUs: " + _how_to_free(others_held),
            )
        )


def _freed(spec: ExperimentSpec) -> Demand:
    """A finished or archived experiment: listed nowhere, holding nothing."""
    return Demand(spec.name, spec.cluster, 0, 0)


def _how_to_free(holders: list[Demand]) -> str:
    """How the other experiments let go of their GPUs: by finishing, or by being stopped."""
    if not holders:
        return "no other experiment on the cluster holds any"
    stop = "; ".join(f"hpo archive --force experiments/{d.name}" for d in holders)
    return (
        "an experiment holds them until its results pull request is merged (results.yaml); "
        f"to stop one before it finishes: {stop} (docs/lifecycle.md)"
    )
