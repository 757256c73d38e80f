"""A cluster's gpu_quota holds for all its experiments together, not one at a time."""

# ruff: noqa: SIM300
from __future__ import annotations

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION, results_of
from tests.support.results_files import results_yaml

# VALID_DEFINITION runs 2 parallel trials x 2 GPUs = 4 GPUs on gpu-cluster-1 (gpu_quota 8).


def _named(name: str, text: str = VALID_DEFINITION) -> str:
    return text.replace("name: demo-exp", f"name: {name}")


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if ": error: " in line]


THREE = "alpha 4 (2 parallel x 2 GPUs), beta 4 (2 parallel x 2 GPUs), gamma 4 (2 parallel x 2 GPUs)"


def shared(holders: str, others: list[str], total: int = 12) -> str:
    """The error of a definition on gpu-cluster-1 that `others` share the quota with."""
    stop = "; ".join(f"hpo archive --force experiments/{name}" for name in others)
    return (
        "parallel_trial_count: the experiments on cluster 'gpu-cluster-1' that can still run "
        f"trials could hold {total} GPUs at once, more than its gpu_quota of 8: {holders}; lower "
        "parallel_trial_count here, or free GPUs: an experiment holds them until its results "
        f"pull request is merged (results.yaml); to stop one before it finishes: {stop} "
        "(docs/lifecycle.md)"
    )


SHARED = shared(THREE, ["alpha", "beta"])  # as gamma is told


class TestSharedQuota:
    """Experiments that fit alone are refused together, each naming all and their demands."""

    def test_within_the_quota(self, repo, capsys):
        for name in ("alpha", "beta"):
            repo.write(_named(name), name=name)
        assert 0 == main(["check"]), capsys.readouterr().err

    def test_over_the_quota(self, repo, capsys):
        for name in ("alpha", "beta", "gamma"):
            repo.write(_named(name), name=name)
        assert 1 == main(["check"])
        line = VALID_DEFINITION.splitlines().index("parallel_trial_count: 2") + 1
        names = ["alpha", "beta", "gamma"]
        assert [
            f"experiments/{name}/experiment.yaml:{line}:23: error: "
            + shared(THREE, [other for other in names if other != name])
            for name in names
        ] == _errors(capsys.readouterr().err)

    def test_one_file_given_counts_the_others(self, repo, capsys):
        """A pull request's one new definition is refused for what is already merged."""
        for name in ("alpha", "beta"):
            repo.write(_named(name), name=name)
        path = repo.write(_named("gamma"), name="gamma")
        assert 1 == main(["check", str(path)])
        assert [f"experiments/gamma/experiment.yaml:27:23: error: {SHARED}"] == _errors(
            capsys.readouterr().err
        )

    def test_a_given_file_replaces_its_merged_version(self, repo, capsys):
        """A definition given by name takes its merged version's place: 4 + 8 GPUs are over the
        quota, 4 + 4 are not."""
        repo.write(_named("alpha"), name="alpha")
        gamma = _named("gamma")
        repo.write(gamma.replace("parallel_trial_count: 2", "parallel_trial_count: 4"), "gamma")
        assert 1 == main(["check", "experiments/alpha"])
        assert "could hold 12 GPUs at once" in capsys.readouterr().err
        lowered = repo.root / "lowered.yaml"
        lowered.write_text(gamma)
        assert 0 == main(["check", str(lowered)]), capsys.readouterr().err

    def test_demand_is_gpus_times_nodes(self, repo, capsys):
        """GPUs per node x nodes x parallel trials: 1 x (2 x 2) x 2 = 8 on top of 4."""
        repo.write(_named("alpha"), name="alpha")
        multi = _named("beta").replace("gpu: 2,", "gpu: 2, num_workers: 2,")
        repo.write(multi + "storage_config: {access_modes: [ReadWriteMany]}\n", name="beta")
        assert 1 == main(["check"])
        errors = _errors(capsys.readouterr().err)
        assert 2 == len(errors)
        assert "could hold 12 GPUs at once" in errors[0]
        assert "alpha 4 (2 parallel x 2 GPUs), beta 8 (2 parallel x 4 GPUs)" in errors[0]

    def test_other_clusters_and_local_experiments_do_not_count(self, repo, capsys):
        for name in ("alpha", "beta"):
            repo.write(_named(name), name=name)
        repo.write(
            _named("gamma").replace("cluster: gpu-cluster-1", "cluster: gpu-cluster-2"),
            name="gamma",
        )
        repo.write(
            _named("delta")
            .replace("cluster: gpu-cluster-1", "cluster: local")
            .replace("hf://meta-llama/Llama-3.2-1B", "./models/llama")
            .replace("  revision: 0123456789abcdef0123456789abcdef01234567\n", ""),
            name="delta",
        )
        assert 0 == main(["check"]), capsys.readouterr().err

    def test_render_refuses_too(self, repo, capsys):
        for name in ("alpha", "beta", "gamma"):
            repo.write(_named(name), name=name)
        assert 1 == main(["render"])
        assert SHARED in capsys.readouterr().err
        assert not (repo.root / "rendered").exists()

    def test_an_experiment_over_the_quota_alone_is_told_so_once(self, repo, capsys):
        repo.write(_named("alpha"), name="alpha")
        repo.write(
            _named("beta").replace("parallel_trial_count: 2", "parallel_trial_count: 5"),
            name="beta",
        )
        assert 1 == main(["check"])
        errors = _errors(capsys.readouterr().err)
        assert [
            "experiments/alpha/experiment.yaml:27:23: error: "
            + shared("alpha 4 (2 parallel x 2 GPUs), beta 10 (5 parallel x 2 GPUs)", ["beta"], 14),
            "experiments/beta/experiment.yaml:27:23: error: parallel_trial_count: 5 parallel "
            "trials x 2 GPUs = 10 GPUs, more than the 8 GPUs cluster 'gpu-cluster-1' allows "
            "(its gpu_quota)",
        ] == errors


class TestFinishedAndArchivedHoldNothing:
    """Only experiments that can still run trials hold GPUs."""

    def _three(self, repo):
        for name in ("alpha", "beta", "gamma"):
            repo.write(_named(name), name=name)

    def test_merged_results_free_the_gpus(self, repo, capsys):
        self._three(repo)
        repo.finish("alpha")
        assert 0 == main(["check"]), capsys.readouterr().err

    def test_an_archived_experiment_holds_nothing(self, repo, capsys):
        self._three(repo)
        (repo.root / "experiments" / "beta" / "archive.yaml").write_text("stage: delete\n")
        assert 0 == main(["check"]), capsys.readouterr().err

    def test_a_finished_experiment_is_not_listed_among_the_holders(self, repo, capsys):
        self._three(repo)
        delta = _named("delta").replace("parallel_trial_count: 2", "parallel_trial_count: 3")
        repo.write(delta, name="delta")
        repo.finish("alpha")
        assert 1 == main(["check", "experiments/delta"])
        holders = "beta 4 (2 parallel x 2 GPUs), delta 6 (3 parallel x 2 GPUs), gamma 4 (2 "
        holders += "parallel x 2 GPUs)"
        assert [
            "experiments/delta/experiment.yaml:27:23: error: "
            + shared(holders, ["beta", "gamma"], 14)
        ] == _errors(capsys.readouterr().err)

    def test_results_of_another_experiment_finish_nothing(self, repo, capsys):
        """A copied results.yaml is reported where it is, and the experiment keeps its GPUs."""
        self._three(repo)
        (repo.root / "experiments" / "alpha" / "results.yaml").write_text(results_of("beta"))
        assert 1 == main(["check", "experiments/alpha"])
        errors = _errors(capsys.readouterr().err)
        assert (
            "experiments/alpha/results.yaml:1:1: error: experiment: 'beta' is not this "
            "folder's experiment 'alpha': the results of another experiment do not finish this one"
        ) in errors
        assert any("could hold 12 GPUs at once" in e for e in errors)

    def test_a_broken_archive_file_is_located(self, repo, capsys):
        repo.write(_named("alpha"), name="alpha")
        (repo.root / "experiments" / "alpha" / "archive.yaml").write_text("stage: gone\n")
        assert 1 == main(["check"])
        assert [
            "experiments/alpha/archive.yaml:1:8: error: stage: Input should be 'release' or "
            "'delete'"
        ] == _errors(capsys.readouterr().err)

    def test_local_results_do_not_finish_a_cluster_experiment(self, repo, capsys):
        """hpo tune --local of a cluster experiment writes results without the Experiment's
        uid: committed, they would free GPUs the cluster still uses."""
        self._three(repo)
        local = results_yaml("alpha", from_local_run=True)
        (repo.root / "experiments" / "alpha" / "results.yaml").write_text(local)
        assert 1 == main(["check", "experiments/alpha"])
        err = capsys.readouterr().err
        assert (
            "experiments/alpha/results.yaml:1:1: warning: these results have no "
            "provenance.experiment_uid: hpo tune --local wrote them"
        ) in err
        assert "could hold 12 GPUs at once" in err
