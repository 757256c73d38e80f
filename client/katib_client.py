"""`KatibClient` for notebooks: the seed API's `tune()`, writing a reviewed definition instead.

    from client import KatibClient

`tune()` takes the arguments of Katib's `KatibClient.tune()` (the kubeflow-training SDK's
parameter objects, transformers.TrainingArguments and peft.LoraConfig holding
`katib.search.*` values) and writes `experiments/<name>/experiment.yaml` plus its rendered
manifests, after the same checks `hpo check` runs. Nothing is created on a cluster: a pull
request is how an experiment starts. `wait_for_experiment_condition()` follows it through the
merge, Argo CD and Katib; `get_optimal_hyperparameters()` answers from the results the results
Job proposes, or from the cluster while they are not there yet. The rest of Katib's read
methods come from `client.cluster_methods`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.arguments import other_arguments, resources_section
from client.cluster_methods import DEFAULT_TIMEOUT, ClusterMethods
from client.counts_edit import count_arguments, with_counts
from client.definition_yaml import dump_definition
from client.errors import ClientError
from client.params import (
    provider_section,
    trainer_section,
)
from client.publish import PullRequestOutcome, propose_experiment, pull_request_settings
from client.results import read_optimal_trial
from client.waiting import Stages, wait_for_condition
from generator.commands.immutability import immutability_problems, rerun_advice
from generator.commands.project import (
    DEFINITION_FILE,
    EXPERIMENTS_DIR,
    check_definition_text,
    find_root,
)
from generator.commands.synced_ref import deployed_ref
from generator.errors import Problem
from generator.files import write_atomically
from generator.loading.lifecycle import ARCHIVE_FILE
from generator.loading.repo_config import load_repo_config
from generator.rendering.render import RENDERED_DIR, write_folder
from generator.rendering.training_view import definition_comment, effective_training_arguments
from generator.spec import (
    DNS1123_LABEL,
    MAX_NAME_LENGTH,
    suggest_name,
)
from proposal.settings import ForgeSettings


class DefinitionInvalid(ClientError):
    """The definition tune() would write fails the generator's checks; nothing was written."""

    def __init__(self, path: str, problems: list[Problem]):
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{path} was not written; it would fail hpo check:\n{listing}")


class DefinitionWarning(UserWarning):
    """A finding of hpo check that does not stop the definition (e.g. an unpinned revision)."""


@dataclass
class TuneResult:
    """What tune() wrote: the definition, whether it changed, and the rendered files."""

    path: Path
    text: str
    changed: bool
    rendered: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    pull_request: PullRequestOutcome | None = None


class KatibClient(ClusterMethods):
    """The seed's client, GitOps-style: the repository is the API, the cluster only runs it."""

    def __init__(
        self,
        namespace: str | None = None,
        *,
        root: str | Path | None = None,
        config_file: str | None = None,
        context: str | None = None,
    ):
        self.namespace = namespace  # written into definitions only when given
        self.root = find_root(Path(root) if root is not None else None)
        self.config_file = config_file  # kubeconfig of the cluster the reads go to
        self.context = context
        # The pull request tune() opened per experiment, which waiting names.
        self._proposals: dict[str, PullRequestOutcome] = {}

    # --- tune --------------------------------------------------------------------------

    def tune(
        self,
        name: str,
        model_provider_parameters: Any = None,
        dataset_provider_parameters: Any = None,
        trainer_parameters: Any = None,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        resources_per_trial: Any = None,
        overwrite: bool = False,
        open_pull_request: bool = False,
        forge_settings: ForgeSettings | None = None,
        forge: str | None = None,
        forge_api_url: str | None = None,
        forge_repo: str | None = None,
        forge_token: str | None = None,
        base_branch: str | None = None,
        **arguments: Any,
    ) -> TuneResult:
        """Write experiments/<name>/experiment.yaml and its rendered manifests.

        `arguments` are the rest of the seed's tune() arguments (objective_metric_name,
        objective_type, algorithm_name, algorithm_settings, max_trial_count,
        parallel_trial_count, max_failed_trial_count, ...) and the definition's additive keys.
        An existing, different definition is only replaced with `overwrite=True`: Katib refuses
        changes to a running Experiment, so a changed experiment normally gets a new name.

        With `open_pull_request=True` the files are also committed on the branch
        `hpo-experiment/<name>` of origin, made from `base_branch` without touching the
        checkout, and its pull request is opened or updated. The forge is `forge_settings`
        (a `proposal.settings.ForgeSettings`, used as given); without it, each of `forge`,
        `forge_api_url`, `forge_repo`, `forge_token` and `base_branch` wins over its variable,
        HPO_FORGE, HPO_FORGE_API_URL, HPO_REPO, HPO_FORGE_TOKEN and HPO_BASE_BRANCH. Giving
        `forge_settings` and any of those five is an error.
        """
        _check_name(name)
        # Before anything is written: missing or conflicting settings fail first.
        settings = pull_request_settings(
            open_pull_request,
            forge_settings,
            forge=forge,
            forge_api_url=forge_api_url,
            forge_repo=forge_repo,
            forge_token=forge_token,
            base_branch=base_branch,
        )
        repo = self._repository()
        definition: dict[str, Any] = {"name": name, "cluster": cluster or _first_cluster(repo)}
        if namespace or self.namespace:
            definition["namespace"] = namespace or self.namespace
        if model_provider_parameters is not None:
            definition["model_provider_parameters"] = provider_section(
                model_provider_parameters, "model_provider_parameters"
            )
        if dataset_provider_parameters is not None:
            definition["dataset_provider_parameters"] = provider_section(
                dataset_provider_parameters, "dataset_provider_parameters"
            )
        if trainer_parameters is not None:
            trainer = trainer_section(trainer_parameters)
            if trainer:
                definition["trainer_parameters"] = trainer
        if resources_per_trial is not None:
            definition["resources_per_trial"] = resources_section(resources_per_trial)
        definition.update(other_arguments(arguments))

        trainer = definition.get("trainer_parameters", {})
        chosen = effective_training_arguments(
            trainer.get("training_parameters", {}), trainer.get("exact_training_arguments", False)
        )
        text = dump_definition(definition)
        if definition_comment(chosen):
            text += "\n" + definition_comment(chosen)
        return self._publish(repo, name, definition["cluster"], text, overwrite, settings)

    def _repository(self) -> Any:
        repo = load_repo_config(self.root)
        if repo.problems:
            raise DefinitionInvalid("the repository configuration", repo.problems)
        return repo

    def _publish(
        self, repo: Any, name: str, cluster: str, text: str, overwrite: bool, settings: Any
    ) -> TuneResult:
        """Check the definition text, write it and its rendered files, open the PR if asked."""
        relative = f"{EXPERIMENTS_DIR}/{name}/{DEFINITION_FILE}"
        if (self.root / EXPERIMENTS_DIR / name / ARCHIVE_FILE).is_file():
            raise ClientError(
                f"{EXPERIMENTS_DIR}/{name} is archived: its definition is the record of a run "
                f"whose objects have left the cluster; to search again, {rerun_advice(name)}"
            )
        rendered_files, found = self._check(text, relative, name, repo)
        path = self.root / relative
        existing = path.read_text(encoding="utf-8") if path.is_file() else None
        if existing is not None and existing != text and not overwrite:
            raise ClientError(
                f"{relative} already exists with a different definition; Katib cannot change a "
                f"created Experiment, so give the changed experiment a new name (or pass "
                f"overwrite=True for a definition that was never merged)"
            )
        for problem in found:
            warnings.warn(str(problem), DefinitionWarning, stacklevel=3)
        if existing != text:
            write_atomically(path, text)
        rendered = self._write_rendered(cluster, name, rendered_files)
        proposed = None
        if settings is not None:
            folder = f"{RENDERED_DIR}/{cluster}/{name}"
            files = {relative: text, **dict(sorted(rendered_files.items()))}
            proposed = propose_experiment(self.root, name, files, folder, settings)
            self._proposals[name] = proposed
        return TuneResult(path, text, existing != text, rendered, found, proposed)

    def _check(
        self, text: str, relative: str, name: str, repo: Any
    ) -> tuple[dict[str, str], list[Problem]]:
        """Run hpo check's stages on the text; raise on errors, return files and warnings."""
        report = check_definition_text(text, relative, name, self.root, repo)
        deployed = deployed_ref(self.root)
        if deployed is not None and not report.failed:
            # What CI's hpo check --base compares with: the revision Argo CD deploys.
            report.problems += immutability_problems(
                self.root, deployed, report.loaded, report.rendered, report.lifecycle
            )
        errors = [p for p in report.problems if p.is_error]
        if errors:
            raise DefinitionInvalid(relative, errors)
        rendered = report.rendered
        rendered_files = rendered.files if rendered is not None and rendered.deployable else {}
        return rendered_files, [p for p in report.problems if not p.is_error]

    def _write_rendered(self, cluster: str, name: str, files: dict[str, str]) -> list[str]:
        """Make rendered/<cluster>/<name>/ hold exactly `files`, so CI's render check passes."""
        written, removed = write_folder(self.root, f"{RENDERED_DIR}/{cluster}/{name}", files)
        return written + removed

    # --- the trial budget, changed through Git -------------------------------------------

    def edit_experiment_budget(
        self,
        name: str,
        namespace: str | None = None,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
        max_failed_trial_count: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        open_pull_request: bool = False,
        forge_settings: ForgeSettings | None = None,
        forge: str | None = None,
        forge_api_url: str | None = None,
        forge_repo: str | None = None,
        forge_token: str | None = None,
        base_branch: str | None = None,
    ) -> TuneResult:
        """Change the trial counts in experiments/<name>/experiment.yaml, the only fields Katib
        lets a created Experiment change, and render again; Argo CD applies the change once it
        is merged. Every other byte of the file stays. With `open_pull_request=True` the change
        goes to a pull request as tune()'s does, with the same forge arguments. `namespace` and
        `timeout` are Katib's arguments: nothing here reads the cluster."""
        counts = count_arguments(
            max_trial_count=max_trial_count,
            parallel_trial_count=parallel_trial_count,
            max_failed_trial_count=max_failed_trial_count,
        )
        _check_name(name)
        settings = pull_request_settings(
            open_pull_request,
            forge_settings,
            forge=forge,
            forge_api_url=forge_api_url,
            forge_repo=forge_repo,
            forge_token=forge_token,
            base_branch=base_branch,
        )
        relative = f"{EXPERIMENTS_DIR}/{name}/{DEFINITION_FILE}"
        path = self.root / relative
        if not path.is_file():
            raise ClientError(
                f"{relative} does not exist: an experiment's budget is edited in its definition, "
                "which tune() writes"
            )
        text = with_counts(path.read_text(encoding="utf-8"), relative, counts)
        cluster = _definition_cluster(text, relative)
        return self._publish(self._repository(), name, cluster, text, True, settings)

    # --- waiting and results ---------------------------------------------------------------

    def wait_for_experiment_condition(
        self,
        name: str,
        namespace: str | None = None,
        expected_condition: str = "Succeeded",
        timeout: float = 600,
        polling_interval: float = 15,
        apiserver_timeout: float = 120,
    ) -> Any:
        """The Experiment (V1beta1Experiment) once `expected_condition` is True.

        Until the Experiment exists this waits through the stages before it, saying once each
        what it waits for: the merge of the definition (its pull request when tune() opened
        one), then Argo CD creating the Experiment, then Katib. TimeoutError names the stage
        reached; a Failed Experiment raises RuntimeError, as Katib's SDK does. Changes arrive
        by a watch; `polling_interval` paces the checks before the Experiment exists.
        """
        where = self._namespace_of(name, namespace)
        stages = Stages(self.root, name, where, self._proposals.get(name))
        return wait_for_condition(
            self._cluster(),
            stages,
            expected_condition,
            timeout=timeout,
            polling_interval=polling_interval,
            apiserver_timeout=apiserver_timeout,
        )

    def get_optimal_hyperparameters(
        self,
        name: str,
        namespace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        ref: str | None = None,
    ) -> Any:
        """The best trial as Katib's V1beta1OptimalTrial; None while no trial has reported.

        Read from experiments/<name>/results.yaml as merged (origin's base branch, else the
        working tree), else from the open results pull request's branch, else from the
        Experiment's status.currentOptimalTrial on the cluster; the source is logged. `ref`
        reads the file at that git revision alone."""

        def read_cluster() -> dict:
            try:
                return self._raw_experiment(name, namespace, timeout)
            except ClientError as e:
                raise ClientError(
                    f"no results for {name} yet: no {EXPERIMENTS_DIR}/{name}/results.yaml merged "
                    f"or in the working tree, none on branch hpo-results/{name} (the results "
                    f"Job pushes it to branch hpo-results/{name} when the Experiment finishes), "
                    f"and the cluster cannot tell: {e}"
                ) from None

        return read_optimal_trial(self.root, name, read_cluster, ref)


def _definition_cluster(text: str, relative: str) -> str:
    from generator.loading.definition import parse_definition

    loaded = parse_definition(text, relative)
    if loaded.spec is None:
        raise DefinitionInvalid(relative, [p for p in loaded.problems if p.is_error])
    return loaded.spec.cluster


def _check_name(name: str) -> None:
    if not isinstance(name, str):
        raise ClientError(f"name must be a string, got {type(name).__name__}")
    if len(name) > MAX_NAME_LENGTH or not DNS1123_LABEL.match(name) or not name[0].isalpha():
        raise ClientError(
            f"'{name}' is not a valid experiment name: Katib needs a lowercase DNS-1123 label "
            f"of at most {MAX_NAME_LENGTH} characters starting with a letter; use "
            f"'{suggest_name(name)}'"
        )


def _first_cluster(repo: Any) -> str:
    if not repo.clusters:
        raise ClientError("argocd/clusters.yaml lists no cluster; pass cluster='NAME'")
    return next(iter(repo.clusters))
