"""wait_for_experiment_condition through the GitOps stages an experiment passes.

With Katib's SDK the Experiment exists as soon as tune() returns. Here it exists only once its
definition is merged and Argo CD has synced it, so waiting covers three stages, each announced
once: the definition's pull request (or the commit and merge still to do), Argo CD creating the
Experiment, and Katib running it. A timeout names the stage reached; a Failed experiment raises
RuntimeError, as Katib's SDK does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.cluster import ClusterReads, as_katib
from client.errors import ClientError
from client.publish import PullRequestOutcome
from proposal.settings import base_branch

MERGE, ARGO_CD, KATIB = "merge", "Argo CD", "Katib"


class Stages:
    """Which stage a waiting experiment is in, said once each time it changes."""

    def __init__(
        self,
        root: Path,
        name: str,
        namespace: str,
        proposal: PullRequestOutcome | None,
        say: Callable[[str], None] = print,
    ):
        self.root, self.name, self.namespace = root, name, namespace
        self.proposal = proposal
        self.base = base_branch()
        self.say = say
        self.current: str | None = None
        self.folder = f"experiments/{name}"

    def _enter(self, stage: str, message: str) -> None:
        if stage != self.current:
            self.current = stage
            self.say(message)

    def merged(self) -> bool | str:
        """True when origin's base branch holds the definition; else False, or why it is unknown."""
        from proposal.git import Git
        from results.errors import GitError

        try:
            here = Git(self.root, env={"GIT_TERMINAL_PROMPT": "0"})
            prefix = here.output("rev-parse", "--show-prefix")
            here.fetch(self.base)
        except GitError as e:
            return str(e)
        path = f"refs/remotes/origin/{self.base}:{prefix}{self.folder}/experiment.yaml"
        return here.run("cat-file", "-e", path, check=False).returncode == 0

    def missing(self) -> None:
        """The Experiment is not on the cluster: before the merge, or before Argo CD's sync."""
        merged = self.merged()
        if merged is True:
            self._enter(
                ARGO_CD,
                f"{self.folder}/ is merged into {self.base}: waiting for Argo CD to create "
                f"Experiment {self.namespace}/{self.name}",
            )
        elif self.proposal is not None and self.proposal.pr_number is not None:
            self._enter(
                MERGE,
                f"waiting for pull request #{self.proposal.pr_number} ({self.proposal.pr_url}) "
                f"to be merged into {self.base}; Argo CD then creates the Experiment",
            )
        else:
            unknown = "" if merged is False else f" (cannot read origin: {merged})"
            self._enter(
                MERGE,
                f"waiting for {self.folder}/ on {self.base}{unknown}: commit and merge "
                f"{self.folder}/ (or call tune(..., open_pull_request=True)); Argo CD then "
                "creates the Experiment",
            )

    def exists(self, experiment: dict) -> None:
        status = experiment.get("status") or {}
        self._enter(
            KATIB,
            f"Experiment {self.namespace}/{self.name} exists: waiting for Katib "
            f"({status.get('trials', 0)} trials so far)",
        )

    def describe(self) -> str:
        return {
            None: "before anything was read",
            MERGE: f"the merge of {self.folder}/ into {self.base}",
            ARGO_CD: "Argo CD creating the Experiment",
            KATIB: "Katib running the Experiment",
        }[self.current]


def wait_for_condition(
    reads: ClusterReads,
    stages: Stages,
    expected: str,
    *,
    timeout: float,
    polling_interval: float,
    apiserver_timeout: float,
) -> Any:
    """The Experiment (Katib's V1beta1Experiment) once its `expected` condition is True."""
    from katib.errors import (
        ExperimentDeleted,
        ExperimentNotFound,
        ExperimentWaitTimeout,
        KubernetesError,
    )
    from katib.objects import true_condition

    name, namespace = stages.name, stages.namespace

    def reached(experiment: dict) -> bool:
        stages.exists(experiment)
        if true_condition(experiment, expected):
            return True
        if expected != "Failed" and true_condition(experiment, "Failed"):
            conditions = (experiment.get("status") or {}).get("conditions")
            raise RuntimeError(
                f"Experiment: {namespace}/{name} is Failed. Experiment conditions: {conditions}"
            )
        return False

    watcher = reads.objects(
        namespace,
        apiserver_timeout,
        # Each watch ends before the read timeout, so a quiet stream closes cleanly.
        watch_timeout_s=apiserver_timeout * 0.75,
        retry_s=min(1.0, polling_interval),
        max_retry_s=polling_interval,
    )
    try:
        experiment = watcher.wait(
            name, reached, timeout, goal=f"reach {expected}", on_missing=stages.missing
        )
    except ExperimentDeleted as e:  # before its base class: gone, not late
        raise RuntimeError(f"Experiment: {namespace}/{name} was deleted while waiting") from e
    except (ExperimentWaitTimeout, ExperimentNotFound) as e:
        raise TimeoutError(
            f"Timeout waiting for Experiment: {namespace}/{name} to reach {expected} within "
            f"{timeout:g}s: waiting for {stages.describe()}"
        ) from e
    except KubernetesError as e:
        raise ClientError(str(e)) from None
    return as_katib(experiment, "V1beta1Experiment")
