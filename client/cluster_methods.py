"""The read methods of Katib 0.19's `KatibClient`, answering from the cluster in Katib's types.

A notebook written for Katib calls these after `tune()`. They read the cluster the client's
kubeconfig points at and return what Katib's SDK returns (`V1beta1Experiment`, `V1beta1Trial`,
lists of conditions, metric logs), so the code around them runs unchanged. The methods that
would change a cluster refuse and say how the same change is made through Git; the trial
counts, the one thing Katib lets a person change, are edited in the definition instead
(`KatibClient.edit_experiment_budget`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from client.cluster import DB_MANAGER_ADDRESS, ClusterReads, as_katib
from client.errors import ClientError
from generator.commands.project import DEFINITION_FILE, EXPERIMENTS_DIR
from generator.spec import ExperimentSpec

DEFAULT_TIMEOUT = 120  # seconds, Katib's default for one API call


class ClusterMethods:
    """Katib's read-only client methods; mixed into KatibClient, which sets these attributes."""

    root: Path
    namespace: str | None
    config_file: str | None
    context: str | None

    # --- where things are -----------------------------------------------------------------

    def _cluster(self) -> ClusterReads:
        return ClusterReads(self.config_file, self.context)

    def _namespace_of(self, name: str | None, namespace: str | None) -> str:
        """The namespace asked for, else the definition's, else the client's, else the default
        every definition gets: an experiment is looked for where its definition puts it."""
        if namespace:
            return namespace
        if name is not None:
            written = _definition_namespace(self.root, name)
            if written:
                return written
        return self.namespace or ExperimentSpec.model_fields["namespace"].default

    def _raw_experiment(self, name: str, namespace: str | None, timeout: float) -> dict:
        where = self._namespace_of(name, namespace)
        missing = (
            f"Experiment {where}/{name} does not exist: Argo CD creates it once "
            f"{EXPERIMENTS_DIR}/{name}/ is merged and synced (wait_for_experiment_condition "
            "waits for that)"
        )
        return self._cluster().read(
            lambda objects: objects.experiment(name), where, timeout, missing
        )

    # --- Experiments ----------------------------------------------------------------------

    def get_experiment(
        self, name: str, namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        """The Experiment as Katib's V1beta1Experiment."""
        return as_katib(self._raw_experiment(name, namespace, timeout), "V1beta1Experiment")

    def list_experiments(
        self, namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> list[Any]:
        """Every Experiment of the namespace, by name, as V1beta1Experiment."""
        where = self._namespace_of(None, namespace)
        found = self._cluster().read(lambda objects: objects.listed("experiments"), where, timeout)
        return [as_katib(e, "V1beta1Experiment") for e in found]

    def get_experiment_conditions(
        self,
        name: str,
        namespace: str | None = None,
        experiment: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Any]:
        """The Experiment's status conditions (V1beta1ExperimentCondition), [] before any."""
        if experiment is None:
            experiment = self.get_experiment(name, namespace, timeout)
        status = experiment.status
        return list(status.conditions or []) if status is not None else []

    def _has_condition(self, kind: str, name, namespace, experiment, timeout) -> bool:
        conditions = self.get_experiment_conditions(name, namespace, experiment, timeout)
        return any(c.type == kind and c.status == "True" for c in conditions)

    def is_experiment_created(
        self, name: str, namespace=None, experiment=None, timeout=DEFAULT_TIMEOUT
    ) -> bool:
        return self._has_condition("Created", name, namespace, experiment, timeout)

    def is_experiment_running(
        self, name: str, namespace=None, experiment=None, timeout=DEFAULT_TIMEOUT
    ) -> bool:
        return self._has_condition("Running", name, namespace, experiment, timeout)

    def is_experiment_restarting(
        self, name: str, namespace=None, experiment=None, timeout=DEFAULT_TIMEOUT
    ) -> bool:
        return self._has_condition("Restarting", name, namespace, experiment, timeout)

    def is_experiment_succeeded(
        self, name: str, namespace=None, experiment=None, timeout=DEFAULT_TIMEOUT
    ) -> bool:
        return self._has_condition("Succeeded", name, namespace, experiment, timeout)

    def is_experiment_failed(
        self, name: str, namespace=None, experiment=None, timeout=DEFAULT_TIMEOUT
    ) -> bool:
        return self._has_condition("Failed", name, namespace, experiment, timeout)

    # --- Trials and Suggestions -----------------------------------------------------------

    def get_trial(
        self, name: str, namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        """One Trial as V1beta1Trial."""
        where = self._namespace_of(None, namespace)
        found = self._cluster().read(lambda objects: objects.named("trials", name), where, timeout)
        return as_katib(found, "V1beta1Trial")

    def list_trials(
        self,
        experiment_name: str | None = None,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Any]:
        """The Experiment's Trials (every Trial of the namespace without a name), by name."""
        where = self._namespace_of(experiment_name, namespace)
        found = self._cluster().read(
            lambda objects: objects.trials(experiment_name), where, timeout
        )
        return [as_katib(t, "V1beta1Trial") for t in found]

    def get_success_trial_details(
        self,
        experiment_name: str | None = None,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[dict[str, Any]]:
        """Succeeded Trials as Katib lists them: name, parameter_assignments and metrics."""
        details = []
        for trial in self.list_trials(experiment_name, namespace, timeout):
            conditions = (trial.status.conditions if trial.status else None) or []
            if any(c.type == "Succeeded" and c.status == "True" for c in conditions):
                details.append(
                    {
                        "name": trial.metadata.name,
                        "parameter_assignments": trial.spec.parameter_assignments,
                        "metrics": trial.status.observation.metrics,
                    }
                )
        return details

    def get_suggestion(
        self, name: str, namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        """The Experiment's Suggestion (same name) as V1beta1Suggestion."""
        where = self._namespace_of(name, namespace)
        found = self._cluster().read(
            lambda objects: objects.named("suggestions", name), where, timeout
        )
        return as_katib(found, "V1beta1Suggestion")

    def list_suggestions(
        self, namespace: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> list[Any]:
        where = self._namespace_of(None, namespace)
        found = self._cluster().read(lambda objects: objects.listed("suggestions"), where, timeout)
        return [as_katib(s, "V1beta1Suggestion") for s in found]

    def get_trial_metrics(
        self,
        name: str,
        namespace: str | None = None,
        db_manager_address: str = DB_MANAGER_ADDRESS,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> list[Any]:
        """Every metric a Trial reported (katib_api_pb2.MetricLog), from Katib's DB manager.

        The DB manager is a cluster-internal service: from a notebook outside the cluster,
        forward it first (kubectl -n kubeflow port-forward svc/katib-db-manager 6789) and pass
        db_manager_address="localhost:6789". `namespace` is Katib's argument; the DB manager
        knows trials by name."""
        return self._cluster().trial_metrics(name, db_manager_address, timeout)

    def get_job_logs(
        self,
        name: str,
        trial_name: str,
        follow: bool = False,
        namespace: str | None = None,
    ) -> Iterator[str]:
        """The log lines of the trial's training container, followed while it runs with
        `follow`. Needs get/list on pods and get on pods/log in the namespace."""
        if not name:
            raise ValueError("Experiment name is required")
        if not trial_name:
            raise ValueError("Trial name is required")
        where = self._namespace_of(name, namespace)
        objects = self._cluster().objects(where)

        def lines() -> Iterator[str]:
            from results.errors import ExperimentNotFound, KubernetesError

            try:
                yield from objects.trial_logs(objects.named("trials", trial_name), follow)
            except (ExperimentNotFound, KubernetesError) as e:
                raise ClientError(str(e)) from None

        return lines()

    # --- what changes a cluster happens in Git --------------------------------------------

    def create_experiment(self, experiment: Any, namespace: str | None = None) -> None:
        raise ClientError(
            "Experiments are created from Git here: tune() writes experiments/<name>/"
            "experiment.yaml and its rendered manifests (open_pull_request=True opens the pull "
            "request); once it is merged, Argo CD creates the Experiment"
        )

    def delete_experiment(
        self, name: str, namespace: str | None = None, delete_options: Any = None
    ) -> None:
        raise ClientError(
            f"Experiments leave the cluster through Git here: run hpo archive "
            f"{EXPERIMENTS_DIR}/{name} and merge its pull request; Argo CD then deletes the "
            "Experiment, its trials and its volume, and Git keeps its definition and results "
            "(docs/lifecycle.md)"
        )


def _definition_namespace(root: Path, name: str) -> str | None:
    """The namespace experiments/<name>/experiment.yaml sets; None without a readable one."""
    from generator.loading.definition import parse_definition

    path = root / EXPERIMENTS_DIR / name / DEFINITION_FILE
    if not path.is_file():
        return None
    spec = parse_definition(path.read_text(encoding="utf-8"), str(path)).spec
    return spec.namespace if spec is not None else None
