"""`hpo archive`: an experiment leaves its cluster through Argo CD; Git keeps its record."""

# ruff: noqa: SIM300
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from tests.generator.conftest import REPO, VALID_DEFINITION
from tests.support.credentials import HF_TOKEN

NAME = "demo-exp"
FOLDER = f"rendered/gpu-cluster-1/{NAME}"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


def _tree(root: Path) -> dict[str, str]:
    """Every file under experiments/ and rendered/, to show nothing changed."""
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for base in ("experiments", "rendered")
        for p in sorted((root / base).rglob("*"))
        if p.is_file()
    }


def _rendered_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / FOLDER).iterdir())


def git_in(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def commit_all(root: Path, message: str) -> None:
    """Commit every change, as a merge to the branch Argo CD deploys."""
    git_in(root, "add", "-A")
    git_in(root, "commit", "-qm", message)


@pytest.fixture
def deployed(repo):
    """demo-exp merged and rendered, in a git repository whose main is what Argo CD syncs
    (the ApplicationSet's targetRevision)."""
    shutil.copy(REPO / "argocd" / "applicationset.yaml", repo.root / "argocd")
    repo.write(VALID_DEFINITION)
    assert 0 == main(["render"])
    git_in(repo.root, "init", "-q", "-b", "main")
    commit_all(repo.root, "demo-exp")
    return repo


class TestFinished:
    """A finished experiment is archived in one step: its folder empties."""

    def test_its_folder_holds_only_the_note(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        out = capsys.readouterr().out
        assert _rendered_files(deployed.root) == ["ARCHIVED.md"]
        archive = deployed.root / "experiments" / NAME / "archive.yaml"
        assert yaml.safe_load(archive.read_text()) == {"stage": "delete"}
        assert f"wrote experiments/{NAME}/archive.yaml" in out
        assert f"removed {FOLDER}/experiment-{NAME}.yaml" in out
        assert (
            "Argo CD deletes in namespace kubeflow of cluster gpu-cluster-1: "
            f"ExternalSecret {NAME}.hf-token, ExternalSecret {NAME}.hpo-forge-token, "
            f"PersistentVolumeClaim {NAME}, Job {NAME}-storage-init, Experiment {NAME}, "
            f"ConfigMap {NAME}-results, Job {NAME}-results, Role {NAME}-results, "
            f"RoleBinding {NAME}-results, ServiceAccount {NAME}-results; "
        ) in out
        assert (deployed.root / "experiments" / NAME / "results.yaml").is_file()

    def test_check_and_render_agree_with_it(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        capsys.readouterr()
        assert 0 == main(["render", "--check"]), capsys.readouterr().err
        assert 0 == main(["check"])
        out = capsys.readouterr().out
        assert f"experiments/{NAME}/experiment.yaml: archived (stage delete); holds no GPUs" in out

    def test_a_second_archive_changes_nothing(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        before = _tree(deployed.root)
        assert 0 == main(["archive", f"experiments/{NAME}/experiment.yaml"])
        assert "already archived; nothing to do" in capsys.readouterr().out
        assert before == _tree(deployed.root)


class TestMayStillRun:
    """Without results, archiving stops a run: refused unless --force, and then in two steps."""

    def test_refused_without_force_and_nothing_written(self, deployed, capsys):
        before = _tree(deployed.root)
        assert 1 == main(["archive", f"experiments/{NAME}"])
        err = capsys.readouterr().err
        assert (
            f"hpo: error: experiments/{NAME} may still be running: it has no results.yaml yet. "
            f"Archiving stops it: its Experiment is deleted with its trials (up to 2 at a time, "
            "2 GPUs each) before they finish, and its results Job never proposes results. "
            f"Nothing was written; to archive {NAME} all the same: hpo archive --force "
            f"experiments/{NAME}"
        ) in err
        assert before == _tree(deployed.root)

    def test_force_releases_first(self, deployed, capsys):
        before = _tree(deployed.root)
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        out = capsys.readouterr().out
        assert "warning: experiments/demo-exp may still be running" in out
        assert "run hpo archive experiments/demo-exp again to delete its objects" in out
        archive = deployed.root / "experiments" / NAME / "archive.yaml"
        assert yaml.safe_load(archive.read_text()) == {"stage": "release", "forced": ["running"]}
        experiment = deployed.rendered_experiment()
        assert SYNC_OPTIONS not in experiment["metadata"]["annotations"]
        after = _tree(deployed.root)
        changed = sorted(p for p in after if before.get(p) != after[p])
        assert [f"experiments/{NAME}/archive.yaml", f"{FOLDER}/experiment-{NAME}.yaml"] == changed

    def test_released_it_still_holds_its_gpus(self, deployed, capsys):
        """It runs until the delete stage is synced: the quota still counts it."""
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        for other in ("alpha", "beta"):
            deployed.write(VALID_DEFINITION.replace(f"name: {NAME}", f"name: {other}"), other)
        capsys.readouterr()
        assert 1 == main(["check", "experiments/alpha"])
        assert "could hold 12 GPUs at once" in capsys.readouterr().err

    def test_the_second_run_waits_for_the_release_on_the_deployed_branch(self, deployed, capsys):
        """Deleting before the release reached the live Experiment would take its volume and
        Secrets and leave it running."""
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        released = _tree(deployed.root)
        assert 1 == main(["archive", f"experiments/{NAME}"])
        assert (
            f"experiments/{NAME}: its release (stage: release) is not on main, the revision "
            "Argo CD deploys, yet: merge it, let Argo CD sync it, then run hpo archive "
            f"experiments/{NAME} again"
        ) in capsys.readouterr().err
        assert released == _tree(deployed.root)

    def test_the_second_run_deletes(self, deployed, capsys):
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        commit_all(deployed.root, "release")
        assert 0 == main(["archive", f"experiments/{NAME}"])
        out = capsys.readouterr().out
        assert "stage delete. The release is on main; merge this only once Argo CD has synced" in (
            out
        )
        assert "argocd\\.argoproj\\.io/sync-options}'` prints nothing" in out
        assert _rendered_files(deployed.root) == ["ARCHIVED.md"]
        archive = deployed.root / "experiments" / NAME / "archive.yaml"
        assert yaml.safe_load(archive.read_text()) == {"stage": "delete", "forced": ["running"]}


class TestSavedAdapters:
    """Adapters the trials saved on the experiment's own volume go with it."""

    SAVING = VALID_DEFINITION.replace(
        "trainer_parameters:\n", "trainer_parameters:\n  save_adapter: true\n"
    )

    def test_refused_without_force_naming_where_they_are(self, repo, capsys):
        repo.write(self.SAVING)
        repo.finish()
        assert 0 == main(["render"])
        before = _tree(repo.root)
        assert 1 == main(["archive", f"experiments/{NAME}"])
        assert (
            f"the trials of {NAME} saved their LoRA adapters on its volume, "
            f"PersistentVolumeClaim {NAME} in namespace kubeflow, under "
            "/workspace/trials/<trial>/adapter; archiving deletes the volume with them"
        ) in capsys.readouterr().err
        assert before == _tree(repo.root)
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        archive = repo.root / "experiments" / NAME / "archive.yaml"
        assert yaml.safe_load(archive.read_text()) == {
            "stage": "delete",
            "forced": ["saved_adapters"],
        }

    def test_a_shared_volume_keeps_them(self, repo, capsys):
        shared = self.SAVING + "storage_config: {existing_claim: team-cache}\n"
        repo.write(shared)
        repo.finish()
        assert 0 == main(["render"])
        assert 0 == main(["archive", f"experiments/{NAME}"])
        out = capsys.readouterr().out
        assert "the shared volume team-cache is not this experiment's and stays" in out


class TestBase:
    """hpo check --base: an archive is an allowed change; coming back from one is not."""

    def test_deleting_an_unfinished_experiment_without_its_release_is_refused(
        self, deployed, capsys
    ):
        (deployed.root / "experiments" / NAME / "archive.yaml").write_text("stage: delete\n")
        assert 0 == main(["render"])
        assert 1 == main(["check", "--base", "main"])
        assert (
            f"experiments/{NAME}/archive.yaml:1:1: error: stage: delete, but experiments/{NAME} "
            "has no results.yaml and was not released at main"
        ) in capsys.readouterr().err

    def test_a_finished_experiment_takes_no_more_trials(self, deployed, capsys):
        deployed.finish()
        commit_all(deployed.root, "results")
        deployed.write(VALID_DEFINITION.replace("max_trial_count: 10", "max_trial_count: 20"))
        assert 1 == main(["check", "--base", "main"])
        assert (
            "max_trial_count changed since main, but demo-exp has finished (its results are merged)"
        ) in capsys.readouterr().err

    def test_both_stages_are_allowed_changes(self, deployed, capsys):
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        assert 0 == main(["check", "--base", "main"]), capsys.readouterr().err
        commit_all(deployed.root, "release")
        assert 0 == main(["archive", f"experiments/{NAME}"])
        assert 0 == main(["check", "--base", "main"]), capsys.readouterr().err

    def test_removing_the_archive_is_refused(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        commit_all(deployed.root, "archive")
        (deployed.root / "experiments" / NAME / "archive.yaml").unlink()
        assert 1 == main(["check", "--base", "main"])
        err = capsys.readouterr().err
        assert (
            f"experiments/{NAME}/experiment.yaml:1:7: error: experiments/{NAME} was archived at "
            f"main, and experiments/{NAME}/archive.yaml is gone"
        ) in err
        assert f"create a new experiment instead: experiments/{NAME}-v2/experiment.yaml" in err

    def test_an_archive_never_goes_back(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        commit_all(deployed.root, "archive")
        (deployed.root / "experiments" / NAME / "archive.yaml").write_text("stage: release\n")
        assert 1 == main(["check", "--base", "main"])
        assert (
            f"experiments/{NAME}/archive.yaml:1:1: error: stage: went back from delete to "
            "release since main"
        ) in capsys.readouterr().err

    def test_the_definition_stays_the_record(self, deployed, capsys):
        deployed.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        commit_all(deployed.root, "archive")
        deployed.write(VALID_DEFINITION.replace("max: 32}", "max: 64}"))
        assert 1 == main(["check", "--base", "main"])
        assert "changed since main" in capsys.readouterr().err


class TestRetainedTrials:
    def test_kept_trials_are_not_deleted_silently(self, repo, capsys):
        repo.write(VALID_DEFINITION + "retain_trials: true\n")
        repo.finish()
        assert 0 == main(["render"])
        assert 1 == main(["archive", f"experiments/{NAME}"])
        assert (
            f"{NAME} sets retain_trials: true, keeping its finished trials' Jobs and Pods"
        ) in capsys.readouterr().err
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        archive = repo.root / "experiments" / NAME / "archive.yaml"
        assert ["retained_trials"] == yaml.safe_load(archive.read_text())["forced"]


class TestARecord:
    """Archived to the end, a definition is judged as a record: today's rules for runnable
    experiments (clusters, images, libraries) need not fit it."""

    def test_a_removed_cluster_leaves_the_record_valid(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        repo.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        clusters = repo.root / "argocd" / "clusters.yaml"
        text = clusters.read_text()
        clusters.write_text(text.replace("name: gpu-cluster-1", "name: gpu-cluster-9"))
        capsys.readouterr()
        assert 0 == main(["check"]), capsys.readouterr().err
        assert 0 == main(["render", "--check"]), capsys.readouterr().err

    def test_a_credential_in_a_record_is_still_refused(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        repo.finish()
        assert 0 == main(["archive", f"experiments/{NAME}"])
        path = repo.root / "experiments" / NAME / "experiment.yaml"
        path.write_text(path.read_text() + f"env_per_trial: {{HF_TOKEN: {HF_TOKEN}}}\n")
        assert 1 == main(["check"])
        assert "credential" in capsys.readouterr().err


class TestWhatIsArchived:
    def test_a_local_experiment_touches_no_cluster(self, repo, capsys):
        local = (
            VALID_DEFINITION.replace("cluster: gpu-cluster-1", "cluster: local")
            .replace("hf://meta-llama/Llama-3.2-1B", "./models/llama")
            .replace("  revision: 0123456789abcdef0123456789abcdef01234567\n", "")
        )
        repo.write(local)
        assert 0 == main(["archive", f"experiments/{NAME}"])
        assert "it runs only locally, so no cluster is touched" in capsys.readouterr().out
        assert not (repo.root / "rendered").exists()

    def test_not_an_experiment_folder(self, repo, capsys):
        (repo.root / "elsewhere").mkdir()
        assert 1 == main(["archive", "elsewhere"])
        assert "elsewhere: not an experiment folder (experiments/<name>)" in (
            capsys.readouterr().err
        )

    def test_a_broken_definition_is_fixed_first(self, repo, capsys):
        repo.write(VALID_DEFINITION.replace("max_trial_count: 10", "max_trial_cont: 10"))
        before = _tree(repo.root)
        assert 1 == main(["archive", f"experiments/{NAME}"])
        err = capsys.readouterr().err
        assert "did you mean 'max_trial_count'?" in err
        assert "has errors (above): an experiment is archived as it renders" in err
        assert before == _tree(repo.root)


class TestPullRequestSummary:
    def test_an_archive_adds_no_gpu_hours(self, deployed, tmp_path):
        deployed.finish()
        commit_all(deployed.root, "results")
        assert 0 == main(["archive", f"experiments/{NAME}"])
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--base", "main", "--summary-md", str(summary)])
        text = summary.read_text()
        assert f"| `{NAME}` | archived (delete) | gpu-cluster-1 | random | | | 0 | | | valid |" in (
            text
        )
        assert "At most, new or changed since `main`: **0 GPU-hours**" in text


class TestOutsideGit:
    def test_the_delete_stage_needs_the_deployed_revision(self, repo, capsys):
        """Without git history there is no telling whether the release was merged."""
        shutil.copy(REPO / "argocd" / "applicationset.yaml", repo.root / "argocd")
        repo.write(VALID_DEFINITION)
        assert 0 == main(["archive", "--force", f"experiments/{NAME}"])
        capsys.readouterr()
        assert 1 == main(["archive", f"experiments/{NAME}"])
        assert (
            f"experiments/{NAME}: the delete stage waits for the release to be on main, the "
            "revision Argo CD deploys, and main cannot be read here"
        ) in capsys.readouterr().err
