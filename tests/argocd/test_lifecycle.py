"""An experiment's life through Argo CD: what each step of it does on the cluster, with the real
ApplicationSet, the real renderer and `hpo archive`, and Argo CD's sync emulated."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from generator.cli import main
from tests.argocd import manifests
from tests.argocd.appset_generation import generate
from tests.argocd.sync_emulation import (
    SYNC_OPTIONS,
    Cluster,
    Live,
    delete_application,
    sync,
)
from tests.argocd.test_applicationset_generation import secrets
from tests.generator.conftest import results_of
from tests.generator.test_archive import commit_all, git_in

REPO = manifests.REPO_ROOT
NAME = "llama-3-2-1b-imdb"
EXPERIMENT = ("Experiment", "kubeflow", NAME)
VOLUME = ("PersistentVolumeClaim", "kubeflow", NAME)


@pytest.fixture
def checkout(tmp_path, monkeypatch) -> Path:
    """The repository with one experiment on gpu-cluster-1, rendered."""
    for item in ("templates", "images.yaml", "argocd"):
        source = REPO / item
        copy_item = shutil.copytree if source.is_dir() else shutil.copy
        copy_item(source, tmp_path / item)
    shutil.copytree(REPO / "experiments" / NAME, tmp_path / "experiments" / NAME)
    monkeypatch.chdir(tmp_path)
    assert 0 == main(["render"])
    git_in(tmp_path, "init", "-q", "-b", "main")
    commit_all(tmp_path, "merged")
    return tmp_path


def _application(root: Path, appset: dict | None = None) -> dict | None:
    applications = generate(appset or manifests.applicationset(), secrets("gpu-cluster-1"), root)
    return next((a for a in applications if a["metadata"]["name"] == NAME), None)


def _sync(cluster: Cluster, root: Path, appset: dict | None = None):
    return sync(cluster, root, _application(root, appset))


def _running(checkout: Path) -> Cluster:
    """Merged and synced: every object on the cluster, the Experiment protected."""
    cluster = Cluster()
    result = _sync(cluster, checkout)
    assert EXPERIMENT in result.applied and VOLUME in result.applied
    assert "Prune=false,Delete=false" == cluster.objects[EXPERIMENT].annotations[SYNC_OPTIONS]
    return cluster


def _finished(checkout: Path) -> Cluster:
    """The results Job lifted the protection as hpo-results, and its results were merged."""
    cluster = _running(checkout)
    cluster.annotate(EXPERIMENT, SYNC_OPTIONS, "", "hpo-results")
    (checkout / "experiments" / NAME / "results.yaml").write_text(results_of(NAME))
    assert 0 == main(["render", "--check"])  # the results change nothing rendered
    return cluster


class TestFinishedThenArchived:
    def test_syncs_after_the_results_keep_the_experiment_released(self, checkout):
        """selfHeal would restore a field Argo CD owns; the Job's is ignored and respected."""
        cluster = _finished(checkout)
        result = _sync(cluster, checkout)
        assert EXPERIMENT in result.applied
        assert "" == cluster.objects[EXPERIMENT].annotations[SYNC_OPTIONS]

    def test_archiving_deletes_every_object_of_the_experiment_and_nothing_else(self, checkout):
        cluster = _finished(checkout)
        other = copy.deepcopy(cluster.objects[VOLUME].obj)
        other["metadata"].update(name="team-cache", labels={})
        cluster.objects[("PersistentVolumeClaim", "kubeflow", "team-cache")] = Live(other, {})
        deployed = sorted(cluster.of_application(NAME))
        assert 0 == main(["archive", f"experiments/{NAME}"])
        assert _application(checkout) is not None  # the folder, so the Application, stays
        result = _sync(cluster, checkout)
        assert (None, [], []) == (result.refused, result.applied, result.kept)
        assert deployed == sorted(result.pruned)
        assert [("PersistentVolumeClaim", "kubeflow", "team-cache")] == list(cluster.objects)

    def test_without_allow_empty_argo_cd_would_refuse(self, checkout):
        cluster = _finished(checkout)
        assert 0 == main(["archive", f"experiments/{NAME}"])
        appset = manifests.applicationset()
        del appset["spec"]["template"]["spec"]["syncPolicy"]["automated"]["allowEmpty"]
        result = _sync(cluster, checkout, appset)
        assert result.refused is not None and [] == result.pruned

    def test_had_the_job_not_released_it_the_experiment_would_stay(self, checkout):
        """Why the results Job lifts Prune=false: Argo CD reads it from the live object."""
        cluster = _running(checkout)
        (checkout / "experiments" / NAME / "results.yaml").write_text(results_of(NAME))
        assert 0 == main(["archive", f"experiments/{NAME}"])
        result = _sync(cluster, checkout)
        assert [EXPERIMENT] == result.kept
        assert EXPERIMENT in cluster.objects


class TestArchivedWhileRunning:
    """--force: released first, deleted on the second archive."""

    def test_two_stages(self, checkout):
        cluster = _running(checkout)
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        commit_all(checkout, "merged")
        released = _sync(cluster, checkout)
        assert [] == released.pruned
        assert SYNC_OPTIONS not in cluster.objects[EXPERIMENT].annotations
        assert 0 == main(["archive", f"experiments/{NAME}"])
        deleted = _sync(cluster, checkout)
        assert EXPERIMENT in deleted.pruned and VOLUME in deleted.pruned
        assert {} == cluster.of_application(NAME)

    def test_deleting_before_the_release_synced_keeps_the_experiment(self, checkout):
        """What the delete stage's message warns of: merged too early, the Experiment stays
        (OutOfSync, requires pruning) until the release has reached the live object."""
        cluster = _running(checkout)
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        commit_all(checkout, "merged")  # merged, but Argo CD has not synced it yet
        assert 0 == main(["archive", f"experiments/{NAME}"])
        result = _sync(cluster, checkout)
        assert [EXPERIMENT] == result.kept


class TestRemovingTheFolderInstead:
    def test_preserves_everything(self, checkout):
        """Deleting rendered/<cluster>/<name>/ by hand deletes the Application, not the objects:
        that is why archiving keeps the folder."""
        cluster = _finished(checkout)
        before = dict(cluster.objects)
        shutil.rmtree(checkout / "rendered" / "gpu-cluster-1" / NAME)
        assert _application(checkout) is None
        assert [] == delete_application(cluster, manifests.applicationset(), NAME)
        assert before == cluster.objects
