"""`KatibClient` for notebooks: the seed API's `tune()`, writing a reviewed definition instead.

    from client import KatibClient

`tune()` takes the arguments of Katib's `KatibClient.tune()` (the kubeflow-training SDK's
parameter objects, transformers.TrainingArguments and peft.LoraConfig holding
`katib.search.*` values) and writes `experiments/<name>/experiment.yaml` plus its rendered
manifests, after the same checks `hpo check` runs. Nothing is created on a cluster: a pull
request is how an experiment starts. `get_optimal_hyperparameters()` reads the results the
results job committed; `wait_for_experiment_condition()` watches the Experiment on the cluster.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.definition_yaml import dump_definition
from client.errors import ClientError
from client.params import (
    plain,
    provider_section,
    resources_section,
    trainer_section,
)
from client.publish import PullRequestOutcome, forge_settings, propose_experiment
from client.results import OptimalHyperparameters, read_optimal_hyperparameters
from generator.errors import Problem
from generator.files import write_atomically
from generator.project import DEFINITION_FILE, EXPERIMENTS_DIR, check_definition_text, find_root
from generator.render import RENDERED_DIR
from generator.repo_config import load_repo_config
from generator.spec import (
    DNS1123_LABEL,
    MAX_NAME_LENGTH,
    UNSUPPORTED_TUNE_ARGUMENTS,
    ExperimentSpec,
    suggest_name,
)

# tune() arguments read by a converter of their own rather than written as given.
_CONVERTED = {
    "name",
    "cluster",
    "namespace",
    "model_provider_parameters",
    "dataset_provider_parameters",
    "trainer_parameters",
    "resources_per_trial",
}


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


class KatibClient:
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
        self.config_file = config_file  # kubeconfig for wait_for_experiment_condition
        self.context = context

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
        checkout, and its pull request is opened or updated. The forge settings default from
        HPO_FORGE, HPO_FORGE_API_URL, HPO_REPO, HPO_FORGE_TOKEN and HPO_BASE_BRANCH.
        """
        _check_name(name)
        settings = None
        if open_pull_request:  # before anything is written: missing settings fail first
            settings = forge_settings(forge, forge_api_url, forge_repo, forge_token, base_branch)
        repo = load_repo_config(self.root)
        if repo.problems:
            raise DefinitionInvalid("the repository configuration", repo.problems)
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
        definition.update(_other_arguments(arguments))

        relative = f"{EXPERIMENTS_DIR}/{name}/{DEFINITION_FILE}"
        text = dump_definition(definition)
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
            warnings.warn(str(problem), DefinitionWarning, stacklevel=2)
        if existing != text:
            write_atomically(path, text)
        rendered = self._write_rendered(definition["cluster"], name, rendered_files)
        proposed = None
        if settings is not None:
            folder = f"{RENDERED_DIR}/{definition['cluster']}/{name}"
            files = {relative: text, **dict(sorted(rendered_files.items()))}
            proposed = propose_experiment(self.root, name, files, folder, settings)
        return TuneResult(path, text, existing != text, rendered, found, proposed)

    def _check(
        self, text: str, relative: str, name: str, repo: Any
    ) -> tuple[dict[str, str], list[Problem]]:
        """Run hpo check's stages on the text; raise on errors, return files and warnings."""
        report = check_definition_text(text, relative, name, self.root, repo)
        errors = [p for p in report.problems if p.is_error]
        if errors:
            raise DefinitionInvalid(relative, errors)
        rendered = report.rendered
        rendered_files = rendered.files if rendered is not None and rendered.deployable else {}
        return rendered_files, [p for p in report.problems if not p.is_error]

    def _write_rendered(self, cluster: str, name: str, files: dict[str, str]) -> list[str]:
        """Make rendered/<cluster>/<name>/ hold exactly `files`, so CI's render check passes."""
        folder = self.root / RENDERED_DIR / cluster / name
        changed = []
        for relative, text in sorted(files.items()):
            target = self.root / relative
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                write_atomically(target, text)
                changed.append(relative)
        if folder.is_dir():
            for stale in sorted(folder.glob("*.yaml")):
                relative = stale.relative_to(self.root).as_posix()
                if relative not in files:
                    stale.unlink()
                    changed.append(relative)
        return changed

    # --- results and status --------------------------------------------------------------

    def get_optimal_hyperparameters(
        self, name: str, namespace: str | None = None, *, ref: str | None = None
    ) -> OptimalHyperparameters | None:
        """The best trial in experiments/<name>/results.yaml: of the working tree, or of the
        git revision `ref` (e.g. 'origin/hpo-results/<name>' before its PR is merged).
        None while no trial reported the objective. `namespace` is accepted for Katib's
        signature and ignored: results live in the repository, not in a namespace."""
        return read_optimal_hyperparameters(self.root, name, ref)

    def wait_for_experiment_condition(
        self,
        name: str,
        namespace: str | None = None,
        expected_condition: str = "Succeeded",
        timeout: float = 600,
        polling_interval: float = 15,
        apiserver_timeout: float = 120,
    ) -> dict:
        """Watch the Experiment until `expected_condition` is True; returns the Experiment.

        Raises ClientError when it fails (unless Failed is expected) or on timeout.
        `polling_interval` is accepted for the seed's signature: a watch needs no polling.
        """
        from results.errors import ExperimentNotFound, KubernetesError
        from results.katib import KatibWatcher, kube_api
        from results.katib_objects import true_condition

        namespace = namespace or self.namespace or ExperimentSpec.model_fields["namespace"].default

        def reached(experiment: dict) -> bool:
            if true_condition(experiment, expected_condition):
                return True
            failed = true_condition(experiment, "Failed")
            if failed:
                reason = failed.get("message") or failed.get("reason") or "no reason given"
                raise ClientError(f"experiment {name} failed: {reason}")
            return False

        try:
            api = kube_api(self.config_file, context=self.context, timeout_s=apiserver_timeout)
            watcher = KatibWatcher(
                api,
                namespace,
                # Each watch ends before the read timeout, so a quiet stream closes cleanly.
                watch_timeout_s=apiserver_timeout * 0.75,
                retry_s=0.5,
                max_retry_s=30.0,
            )
            return watcher.wait(
                name,
                reached,
                timeout,
                goal=f"reach {expected_condition}",
                wait_for_creation=False,
            )
        except ExperimentNotFound as e:
            if "deleted" in str(e):
                raise ClientError(f"experiment {name} was deleted while waiting") from None
            raise ClientError(
                f"experiment {name} is not in namespace {namespace} (yet): Argo CD creates it "
                "once its definition is merged and synced"
            ) from None
        except KubernetesError as e:
            raise ClientError(str(e)) from None


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


def _other_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    known = [k for k in ExperimentSpec.model_fields if k not in _CONVERTED]
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key in UNSUPPORTED_TUNE_ARGUMENTS:
            raise ClientError(f"{key}: not supported here: {UNSUPPORTED_TUNE_ARGUMENTS[key]}")
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ClientError(f"tune() got an unknown argument '{key}'{hint}")
        if value is None:
            continue
        if key == "metrics_collector_config" and "collector" in value:
            value = value["collector"]  # the seed nests the collector's kind one level deeper
        if key in ("storage_config", "metrics_collector_config") and isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        out[key] = plain(value)
    return out
