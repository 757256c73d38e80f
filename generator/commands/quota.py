"""A cluster's gpu_quota against every experiment that runs on it, not one at a time.

Each definition alone is compared with the quota by `checks`; here the experiments that share a
cluster are added up: their parallel trials x GPUs per node x nodes, all at once. The repository
cannot tell a finished Experiment from a running one, so every definition in experiments/ counts
until its folder is removed.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.checks.cost import gpus_per_trial
from generator.checks.definition import demand_location, gpu_demand
from generator.commands.project import DefinitionReport
from generator.loading.definition import LoadedDefinition
from generator.loading.repo_config import LOCAL_CLUSTER, RepoConfig
from generator.spec import ExperimentSpec
from generator.validate import dotted


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


def _demand(spec: ExperimentSpec) -> Demand:
    return Demand(
        spec.name, spec.cluster, spec.effective_parallel_trial_count, gpus_per_trial(spec)
    )


def _spec(loaded: LoadedDefinition) -> ExperimentSpec | None:
    return loaded.spec or loaded.salvaged


def shared_quota(
    checked: list[DefinitionReport], others: list[LoadedDefinition], repo: RepoConfig
) -> None:
    """Add an error to each checked definition on a cluster whose experiments together want
    more GPUs at once than its gpu_quota. `others` are the repository's definitions that were not
    checked: they count, and a checked definition of the same name takes the place of one."""
    by_name: dict[str, Demand] = {}
    for loaded in [r.loaded for r in checked] + others:
        spec = _spec(loaded)
        if spec is not None and spec.cluster != LOCAL_CLUSTER:
            by_name.setdefault(spec.name, _demand(spec))
    for report in checked:
        spec, doc = report.loaded.spec, report.loaded.document
        cluster = repo.clusters.get(spec.cluster) if spec is not None else None
        if cluster is None or doc is None or not gpu_demand(spec):
            continue
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
        report.problems.append(
            doc.problem(
                loc,
                f"{dotted(loc)}: the experiments on cluster '{cluster.name}' could hold {total} "
                f"GPUs at once, more than its gpu_quota of {cluster.gpu_quota}: "
                f"{', '.join(map(str, sharing))}; lower parallel_trial_count here or in another "
                "of them (every experiment in experiments/ counts, finished or not: the "
                "repository cannot tell)",
            )
        )
