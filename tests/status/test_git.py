"""`hpo status` from Git alone: each experiment's state, the GPUs it holds, every quota left."""

from __future__ import annotations

import json
import shutil

import pytest

from generator.cli import main
from tests.status.conftest import Repo, definition, git, results_yaml

GPU_HOURS = {"unit": "gpu_hours", "limit": 40, "spent": 38.2, "ended_experiment": True}
TRIAL_HOURS = {"unit": "trial_hours", "limit": 10, "spent": 3.5, "ended_experiment": False}
LEGEND = [
    "GPU-hours N (trial-hours x G): the budget's trial-hours times the G GPUs of each trial",
    "GPU-hours >= N (train_runtime x G): no budget, so only the trials' training time is "
    "recorded; pod start, model loading and failed trials are not in it",
]


def every_state(repo: Repo) -> str:
    """Merge alpha (running), gamma (finished), delta and epsilon (archived: release, delete),
    zeta (gpu-cluster-2) and demo (local); propose beta. The merged commit."""
    repo.write("alpha", "experiment.yaml", definition("alpha"))
    repo.write("gamma", "experiment.yaml", definition("gamma", extra="budget: {gpu_hours: 40}\n"))
    repo.write("gamma", "results.yaml", results_yaml("gamma", GPU_HOURS))
    repo.write("delta", "experiment.yaml", definition("delta"))
    repo.write("delta", "results.yaml", results_yaml("delta", TRIAL_HOURS))
    repo.write("delta", "archive.yaml", "stage: release\n")
    repo.write("epsilon", "experiment.yaml", definition("epsilon"))
    repo.write("epsilon", "results.yaml", results_yaml("epsilon", runtimes=(600, 1200, None)))
    repo.write("epsilon", "archive.yaml", "stage: delete\n")
    repo.write("zeta", "experiment.yaml", definition("zeta", "gpu-cluster-2", parallel=4))
    repo.write("demo", "experiment.yaml", definition("demo", "local"))
    merged = repo.commit("Merge the experiments")
    git(repo.root, "checkout", "--quiet", "-b", "propose-beta")
    repo.write("beta", "experiment.yaml", definition("beta", parallel=1))
    return merged


def status(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["status", *args])
    out, err = capsys.readouterr()
    return code, out, err


class TestStates:
    """Every experiment is listed once, in its cluster's group, in the state its folder and the
    deployed revision give it."""

    def test_the_table(self, repo, capsys):
        merged = every_state(repo)
        assert (0, "") == status(capsys)[::2]
        expected = [
            f"hpo status at main ({merged[:7]}): running = deployed there, proposed = not "
            "merged there yet",
            "",
            "gpu-cluster-1: gpu_quota 8; 4 GPUs held, 2 more once merged; 4 left, 2 left once "
            "merged",
            "  EXPERIMENT  STATE               GPUS           GPU-HOURS",
            "  alpha       running             4 held         -",
            "  beta        proposed            2 once merged  -",
            "  delta       archived (release)  -              7.00 (trial-hours x 2)",
            "  epsilon     archived            -              >= 1.00 (train_runtime x 2)",
            "  gamma       finished            -              38.20",
            "",
            "gpu-cluster-2: gpu_quota 16; 8 GPUs held; 8 left",
            "  EXPERIMENT  STATE    GPUS    GPU-HOURS",
            "  zeta        running  8 held  -",
            "",
            "local: run by hpo tune --local on one machine (running = merged); no quota",
            "  EXPERIMENT  STATE    GPUS  GPU-HOURS",
            "  demo        running  -     -",
            "",
            *LEGEND,
        ]
        assert expected == status(capsys)[1].splitlines()

    def test_json_says_the_same(self, repo, capsys):
        merged = every_state(repo)
        code, out, _ = status(capsys, "--format", "json")
        document = json.loads(out)
        assert 0 == code
        assert {"name": "main", "commit": merged} == document["ref"]
        states = {
            e["name"]: (e["state"], e["archive_stage"], e["gpus"], e["holding"])
            for e in document["experiments"]
        }
        assert {
            "alpha": ("running", None, 4, "held"),
            "beta": ("proposed", None, 2, "once merged"),
            "delta": ("archived", "release", 4, "none"),
            "demo": ("running", None, 4, "none"),
            "epsilon": ("archived", "delete", 4, "none"),
            "gamma": ("finished", None, 4, "none"),
            "zeta": ("running", None, 8, "held"),
        } == states
        assert [
            {"name": "gpu-cluster-1", "gpu_quota": 8, "held": 4, "once_merged": 2, "left": 4,
             "left_once_merged": 2},
            {"name": "gpu-cluster-2", "gpu_quota": 16, "held": 8, "once_merged": 0, "left": 8,
             "left_once_merged": 8},
            {"name": "local", "gpu_quota": None, "held": 0, "once_merged": 0, "left": None,
             "left_once_merged": None},
        ] == document["clusters"]  # fmt: skip

    def test_results_merged_on_the_deployed_branch_finish_it(self, repo, capsys):
        """A proposed experiment whose results are in the working tree is finished: the
        folder decides before the revision."""
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.write("alpha", "results.yaml", results_yaml("alpha"))
        out = status(capsys)[1]
        assert "  alpha       finished  -     >= 1.00 (train_runtime x 2)" in out.splitlines()

    def test_the_same_repository_prints_the_same_bytes(self, repo, capsys, tmp_path):
        """Sorted by name whatever order the files were written in."""
        every_state(repo)
        first = status(capsys)[1]
        for name in ("zeta", "alpha", "beta"):  # rewritten in another order, newer times
            path = repo.root / "experiments" / name / "experiment.yaml"
            path.write_text(path.read_text())
        assert first == status(capsys)[1]
        assert first == status(capsys)[1]


class TestQuota:
    """What is left of a cluster's gpu_quota: running experiments hold their GPUs, proposed ones
    will hold them once merged, finished and archived ones hold none."""

    def _line(self, out: str, cluster: str = "gpu-cluster-1") -> str:
        return next(line for line in out.splitlines() if line.startswith(cluster + ":"))

    def test_finished_and_archived_hold_nothing(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha", parallel=4))
        repo.write("alpha", "results.yaml", results_yaml("alpha"))
        repo.write("beta", "experiment.yaml", definition("beta", parallel=4))
        repo.write("beta", "results.yaml", results_yaml("beta"))
        repo.write("beta", "archive.yaml", "stage: delete\n")
        repo.commit("Two done")
        assert "gpu-cluster-1: gpu_quota 8; none held; 8 left" == self._line(status(capsys)[1])

    def test_over_the_quota_now_and_once_merged(self, repo, capsys):
        """3 x 2 GPUs + 2 x 2 GPUs run; 2 x 2 more proposed: 10 held, 14 once merged."""
        repo.write("alpha", "experiment.yaml", definition("alpha", parallel=3))
        repo.write("beta", "experiment.yaml", definition("beta"))
        repo.commit("Two running")
        repo.write("gamma", "experiment.yaml", definition("gamma"))
        assert (
            "gpu-cluster-1: gpu_quota 8; 10 GPUs held, 4 more once merged; 2 over the quota, "
            "6 over the quota once merged"
        ) == self._line(status(capsys)[1])

    def test_gpus_are_parallel_trials_times_gpus_times_nodes(self, repo, capsys):
        """2 parallel x (2 GPUs x 2 nodes) = 8, the whole quota."""
        multi = definition("alpha").replace("gpu: 2,", "gpu: 2, num_workers: 2,")
        repo.write("alpha", "experiment.yaml", multi)
        repo.commit("Two nodes")
        out = status(capsys)[1]
        assert "gpu-cluster-1: gpu_quota 8; 8 GPUs held; 0 left" == self._line(out)
        assert "  alpha       running  8 held  -" in out.splitlines()

    def test_a_cluster_not_in_the_list_has_no_quota(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha", "gpu-cluster-9"))
        out = status(capsys)[1]
        line = "gpu-cluster-9: no quota: not a valid cluster of argocd/clusters.yaml"
        assert line == self._line(out, "gpu-cluster-9")
        assert "  alpha       proposed  4 once merged  -" in out.splitlines()

    def test_local_experiments_hold_no_cluster_gpus(self, repo, capsys):
        repo.write("demo", "experiment.yaml", definition("demo", "local", parallel=4))
        out = status(capsys)[1]
        assert "gpu-cluster-1: gpu_quota 8; none held; 8 left" == self._line(out)
        assert "  demo        proposed  -     -" in out.splitlines()


class TestGpuHours:
    """GPU-hours come from results.yaml: the budget's account when there is one, otherwise the
    trials' training time, as a lower bound, and nothing where neither is recorded."""

    def _gpu_hours(self, repo, capsys, results: str, text: str | None = None) -> str:
        repo.write("alpha", "experiment.yaml", text or definition("alpha"))
        repo.write("alpha", "results.yaml", results)
        row = next(line for line in status(capsys)[1].splitlines() if "alpha" in line)
        return row.split("  -  ")[-1].strip()

    def test_a_gpu_hour_budget_is_what_was_spent(self, repo, capsys):
        assert "38.20" == self._gpu_hours(repo, capsys, results_yaml("alpha", GPU_HOURS))

    def test_trial_hours_times_the_gpus_of_each_trial(self, repo, capsys):
        """3.5 trial-hours x (2 GPUs x 3 nodes)."""
        multi = definition("alpha").replace("gpu: 2,", "gpu: 2, num_workers: 3,")
        got = self._gpu_hours(repo, capsys, results_yaml("alpha", TRIAL_HOURS), multi)
        assert "21.00 (trial-hours x 6)" == got

    def test_training_time_is_a_lower_bound(self, repo, capsys):
        """(1800 s + 5400 s) x 2 GPUs = 4 GPU-hours; the trial without a runtime adds none."""
        results = results_yaml("alpha", runtimes=(1800, None, 5400))
        assert ">= 4.00 (train_runtime x 2)" == self._gpu_hours(repo, capsys, results)

    def test_nothing_recorded_says_nothing(self, repo, capsys):
        results = results_yaml("alpha", runtimes=(None, None))
        assert "-" == self._gpu_hours(repo, capsys, results)

    def test_trials_without_gpus_cost_none(self, repo, capsys):
        cpu_only = definition("alpha").replace("gpu: 2, ", "")
        assert "0 (no GPUs)" == self._gpu_hours(repo, capsys, results_yaml("alpha"), cpu_only)


class TestUnreadable:
    """A file that cannot be read is reported at its line; every experiment is still listed."""

    def test_a_broken_results_file_leaves_the_experiment_holding_its_gpus(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.write("beta", "experiment.yaml", definition("beta"))
        repo.commit("Two running")
        repo.write("alpha", "results.yaml", results_yaml("alpha").replace("Succeeded", "Done", 1))
        code, out, err = status(capsys)
        assert 1 == code
        assert [
            "gpu-cluster-1: gpu_quota 8; 8 GPUs held; 0 left",
            "  EXPERIMENT  STATE                             GPUS    GPU-HOURS",
            "  alpha       running, results.yaml unreadable  4 held  -",
            "  beta        running                           4 held  -",
        ] == out.splitlines()[2:6]
        assert [
            "experiments/alpha/results.yaml:2:9: error: status: Input should be 'Succeeded' or "
            "'Failed'"
        ] == err.splitlines()

    def test_another_experiments_results_do_not_finish_it(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.write("alpha", "results.yaml", results_yaml("beta"))
        code, out, err = status(capsys)
        assert 1 == code
        assert "  alpha       proposed, results.yaml unreadable  4 once merged  -" in out
        assert err.startswith("experiments/alpha/results.yaml:1:1: error: experiment: 'beta' ")

    def test_a_broken_archive_and_a_broken_definition(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.write("alpha", "archive.yaml", "stage: gone\n")
        repo.write("beta", "experiment.yaml", "name: [\n")
        code, out, err = status(capsys)
        assert 1 == code
        assert "  alpha       proposed, archive.yaml unreadable  4 once merged  -" in out
        assert out.endswith("definitions that cannot be read:\n  beta\n")
        lines = err.splitlines()
        assert 2 == len(lines)
        assert lines[0].startswith("experiments/alpha/archive.yaml:1:8: error: stage: ")
        assert lines[1].startswith("experiments/beta/experiment.yaml:")

    def test_the_cluster_list_counts_and_the_image_list_does_not(self, repo, capsys):
        """A broken cluster entry leaves its cluster without a quota, reported at its line;
        images.yaml is hpo check's to report (status renders nothing)."""
        clusters = repo.root / "argocd" / "clusters.yaml"
        clusters.write_text(clusters.read_text().replace("gpu_quota: 16", "gpu_quota: many"))
        repo.write("zeta", "experiment.yaml", definition("zeta", "gpu-cluster-2"))
        code, out, err = status(capsys)
        assert 1 == code
        assert (
            "gpu-cluster-2: no quota: not a valid cluster of argocd/clusters.yaml"
            in out.splitlines()
        )
        assert "gpu-cluster-1: gpu_quota 8; none held; 8 left" in out.splitlines()
        assert 1 == len(err.splitlines())
        assert err.startswith("argocd/clusters.yaml:")
        assert "gpu_quota" in err
        (repo.root / "images.yaml").write_text("trainer: [\n")
        clusters.write_text(clusters.read_text().replace("gpu_quota: many", "gpu_quota: 16"))
        assert (0, "") == status(capsys)[::2]


class TestRef:
    """Running means deployed: at the revision the ApplicationSet deploys, or the one named."""

    def test_the_applicationsets_revision_is_the_default(self, repo, capsys):
        path = repo.root / "argocd" / "applicationset.yaml"
        path.write_text(path.read_text().replace("targetRevision: main", "targetRevision: prod"))
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.commit("alpha on main")
        code, out, err = status(capsys)
        assert (5, "") == (code, out)
        assert err.startswith("hpo: error: --ref prod: no such commit in ")
        git(repo.root, "branch", "prod")
        assert "  alpha       running  4 held  -" in status(capsys)[1].splitlines()

    def test_the_remote_of_the_deployed_repository_is_preferred(self, repo, capsys):
        """origin/main (as last fetched) is what Argo CD reads, not the local main."""
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        fetched = repo.commit("alpha merged on the forge")
        git(repo.root, "reset", "--quiet", "--hard", "HEAD~1")
        url = "https://github.com/example-org/llm-hpo-gitops.git"
        git(repo.root, "remote", "add", "origin", url)
        git(repo.root, "update-ref", "refs/remotes/origin/main", fetched)
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        out = status(capsys)[1]
        assert out.startswith(f"hpo status at origin/main ({fetched[:7]}): ")
        assert "  alpha       running  4 held  -" in out.splitlines()
        assert "  alpha       proposed" in status(capsys, "--ref", "main")[1]

    @pytest.mark.parametrize(
        "url",
        [
            "git@github.com:example-org/llm-hpo-gitops.git",
            "ssh://git@github.com:22/example-org/llm-hpo-gitops",
            "https://github.com/Example-Org/llm-hpo-gitops/",
        ],
    )
    def test_an_ssh_clone_of_the_deployed_repository_counts_too(self, repo, capsys, url):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        fetched = repo.commit("alpha merged on the forge")
        git(repo.root, "reset", "--quiet", "--hard", "HEAD~1")
        git(repo.root, "remote", "add", "origin", url)
        git(repo.root, "update-ref", "refs/remotes/origin/main", fetched)
        assert status(capsys)[1].startswith(f"hpo status at origin/main ({fetched[:7]}): ")

    def test_a_missing_ref_is_one_line(self, repo, capsys):
        code, out, err = status(capsys, "--ref", "no-such-branch")
        assert (5, "") == (code, out)
        assert [
            f"hpo: error: --ref no-such-branch: no such commit in {repo.root} (git fetch, or "
            "name another with --ref)"
        ] == err.splitlines()

    def test_outside_git_is_one_line(self, repo, capsys):
        shutil.rmtree(repo.root / ".git")
        code, out, err = status(capsys)
        assert (3, "") == (code, out)
        assert 1 == len(err.splitlines())
        assert "not a git repository" in err

    def test_an_applicationset_without_a_revision(self, repo, capsys):
        path = repo.root / "argocd" / "applicationset.yaml"
        path.write_text(path.read_text().replace("targetRevision: main", "targetRevision: ''"))
        code, _, err = status(capsys)
        assert [
            "hpo: error: argocd/applicationset.yaml: no spec.template.spec.source.targetRevision; "
            "name the revision to compare with in --ref"
        ] == err.splitlines()
        assert 1 == code
        assert 0 == status(capsys, "--ref", "main")[0]

    def test_a_repository_below_the_top_of_git(self, repo, capsys, tmp_path, monkeypatch):
        """The hpo repository may be a folder of a larger git repository."""
        outer = tmp_path / "outer"
        inner = outer / "deploy" / "hpo"
        inner.parent.mkdir(parents=True)
        git(tmp_path, "init", "--quiet", "--initial-branch=main", str(outer))
        repo.root.rename(inner)
        shutil.rmtree(inner / ".git")
        git(outer, "add", "-A")
        git(outer, "commit", "--quiet", "-m", "hpo below")
        (inner / "experiments" / "alpha").mkdir(parents=True)
        (inner / "experiments" / "alpha" / "experiment.yaml").write_text(definition("alpha"))
        git(outer, "add", "-A")
        git(outer, "commit", "--quiet", "-m", "alpha")
        monkeypatch.chdir(inner)
        assert "  alpha       running  4 held  -" in status(capsys)[1].splitlines()


class TestForcedArchive:
    def test_released_without_results_holds_its_gpus_until_deleted(self, repo, capsys):
        """A forced archive's release stage runs on: its GPUs count until the delete stage."""
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.write("alpha", "archive.yaml", "stage: release\nforced: [running]\n")
        repo.commit("Release alpha")
        code, out, _ = status(capsys)
        assert 0 == code
        assert "gpu-cluster-1: gpu_quota 8; 4 GPUs held; 4 left" in out
        assert "  alpha       archived (release)  4 held  -" in out
        repo.write("alpha", "archive.yaml", "stage: delete\nforced: [running]\n")
        out = status(capsys)[1]
        assert "  alpha       archived (not merged)  4 held  -" in out  # still released only
        repo.commit("Delete alpha")
        out = status(capsys)[1]
        assert "gpu-cluster-1: gpu_quota 8; none held; 8 left" in out

    def test_results_on_a_branch_free_nothing_until_merged(self, repo, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.commit("Merge alpha")
        git(repo.root, "checkout", "--quiet", "-b", "hpo-results/alpha")
        repo.write("alpha", "results.yaml", results_yaml("alpha"))
        out = status(capsys)[1]
        assert "  alpha       finished (not merged)  4 held  >= 1.00 (train_runtime x 2)" in out
