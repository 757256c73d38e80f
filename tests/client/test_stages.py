"""wait_for_experiment_condition() before the Experiment exists: the GitOps stages, each said once.

A real checkout with a bare origin, a local forge and the local Kubernetes API server: the
definition is merged on origin while the client waits, then the Experiment arrives and succeeds.
"""

from __future__ import annotations

import os
import threading

import pytest

from client import KatibClient
from tests.client.conftest import add_bare_origin, commit_to_origin, isolate_git
from tests.client.test_tune import _tune
from tests.support import katib
from tests.support.forge_server import TOKEN, ForgeServer
from tests.support.kube_api import KubeServer

NAME = "llama-3-2-fine-tune"
FOLDER = f"experiments/{NAME}"
FAST = dict(polling_interval=0.2, apiserver_timeout=4)


@pytest.fixture
def kube():
    with KubeServer() as server:
        yield server


@pytest.fixture
def checkout(repo_copy, tmp_path, monkeypatch):
    isolate_git(tmp_path, monkeypatch)
    for key in [k for k in os.environ if k.startswith("HPO_")]:
        monkeypatch.delenv(key)
    add_bare_origin(repo_copy, tmp_path)
    return repo_copy


@pytest.fixture
def client(checkout, kube, tmp_path):
    return KatibClient(root=checkout, config_file=kube.kubeconfig(tmp_path / "kubeconfig"))


def _merge_later(checkout, seconds: float) -> threading.Timer:
    """Merge the definition tune() wrote into origin's main after `seconds`."""
    files = {
        path.relative_to(checkout).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((checkout / FOLDER).iterdir())
    }
    timer = threading.Timer(seconds, commit_to_origin, (checkout, "main", files))
    timer.start()
    return timer


def _experiment(version: int, *conditions):
    return katib.experiment_with_conditions(NAME, version, *conditions)


class TestStagesInOrder:
    def test_merge_then_argo_cd_then_katib_each_said_once(self, checkout, client, kube, capsys):
        _tune(checkout, client=client)
        merged = _merge_later(checkout, 0.6)
        kube.state.later(1.8, _experiment(1, ("Created", "True")))
        kube.state.later(2.4, _experiment(2, ("Running", "True")))
        kube.state.later(3.0, _experiment(3, ("Running", "False"), ("Succeeded", "True")))
        done = client.wait_for_experiment_condition(NAME, timeout=30, **FAST)
        merged.join()
        assert done.metadata.resource_version == "3"
        said = capsys.readouterr().out.splitlines()
        assert said == [
            f"waiting for {FOLDER}/ on main: commit and merge {FOLDER}/ (or call "
            "tune(..., open_pull_request=True)); Argo CD then creates the Experiment",
            f"{FOLDER}/ is merged into main: waiting for Argo CD to create Experiment "
            f"kubeflow/{NAME}",
            f"Experiment kubeflow/{NAME} exists: waiting for Katib (0 trials so far)",
        ]

    def test_the_pull_request_tune_opened_is_named(
        self, checkout, client, kube, capsys, monkeypatch
    ):
        with ForgeServer("github", "example-org/hpo") as github:
            monkeypatch.setenv("HPO_FORGE", "github")
            monkeypatch.setenv("HPO_FORGE_API_URL", github.api_url)
            monkeypatch.setenv("HPO_REPO", github.state.repo)
            monkeypatch.setenv("HPO_FORGE_TOKEN", TOKEN)
            outcome = _tune(checkout, client=client, open_pull_request=True).pull_request
        kube.state.later(0.8, _experiment(1, ("Succeeded", "True")))
        client.wait_for_experiment_condition(NAME, timeout=30, **FAST)
        first = capsys.readouterr().out.splitlines()[0]
        assert first == (
            f"waiting for pull request #{outcome.pr_number} ({outcome.pr_url}) to be merged into "
            "main; Argo CD then creates the Experiment"
        )


class TestTimeouts:
    """A timeout says which stage the experiment got to."""

    def test_before_the_merge(self, checkout, client):
        _tune(checkout, client=client)
        with pytest.raises(TimeoutError, match=f"waiting for the merge of {FOLDER}/ into main"):
            client.wait_for_experiment_condition(NAME, timeout=1, **FAST)

    def test_merged_but_not_synced(self, checkout, client):
        _tune(checkout, client=client)
        _merge_later(checkout, 0).join()
        with pytest.raises(TimeoutError, match="waiting for Argo CD creating the Experiment"):
            client.wait_for_experiment_condition(NAME, timeout=1, **FAST)

    def test_without_origin_the_reason_is_said(self, repo_copy, kube, tmp_path, capsys):
        client = KatibClient(root=repo_copy, config_file=kube.kubeconfig(tmp_path / "kubeconfig"))
        with pytest.raises(TimeoutError):
            client.wait_for_experiment_condition(NAME, timeout=0.5, **FAST)
        assert "(cannot read origin:" in capsys.readouterr().out
