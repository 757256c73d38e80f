"""argocd/clusters.yaml and images.yaml are read by strict models: every mistake of the file is
reported at its own line, an unknown key with the known key it resembles."""

from __future__ import annotations

from generator.cli import main
from generator.loading.repo_config import IMAGE_ROLES, load_repo_config
from tests.generator.conftest import REPO, VALID_DEFINITION

RESULTS = """\
    results:
      git_url: https://github.com/example-org/llm-hpo-gitops.git
      forge: github
      forge_api_url: https://api.github.com
      repo: example-org/llm-hpo-gitops
      base_branch: main
      token: {secret: hpo-forge-token, key: token}
"""


def _problems(repo, clusters: str) -> list[str]:
    (repo.root / "argocd" / "clusters.yaml").write_text(clusters)
    return [str(p) for p in load_repo_config(repo.root).problems]


class TestShippedFiles:
    def test_clusters_load_with_every_setting(self):
        config = load_repo_config(REPO)
        assert [] == config.problems
        first, second = config.clusters["gpu-cluster-1"], config.clusters["gpu-cluster-2"]
        assert (16, 6.0, 500.0, "Job", None) == (
            first.gpu_quota,
            first.default_trial_deadline_hours,
            first.max_gpu_hours_per_experiment,
            first.trial_api,
            first.training_runtime,
        )
        assert ("TrainJob", "hpo-torch-distributed") == (
            second.trial_api,
            second.training_runtime,
        )
        assert ("github", "hpo-forge-token", None) == (
            first.results.forge,
            first.results.token.secret,
            first.results.ssh_key,
        )

    def test_images_name_every_role(self):
        assert set(IMAGE_ROLES) == set(load_repo_config(REPO).images)


class TestClusterMistakes:
    def test_every_mistake_at_its_own_line(self, repo):
        problems = _problems(
            repo,
            "clusters:\n"
            "  - name: gpu-cluster-1\n"
            "    gpu_quota: 8\n"
            "    max_gpu_hour_per_experiment: 5\n"
            "  - name: gpu-cluster-2\n"
            "    gpu_qouta: 16\n"
            "  - name: gpu-cluster-3\n"
            "    gpu_quota: eight\n",
        )
        assert [
            "argocd/clusters.yaml:4:5: error: clusters[0]: unknown key "
            "'max_gpu_hour_per_experiment'; did you mean 'max_gpu_hours_per_experiment'?",
            "argocd/clusters.yaml:5:5: error: clusters[1]: missing required key 'gpu_quota'",
            "argocd/clusters.yaml:6:5: error: clusters[1]: unknown key 'gpu_qouta'; "
            "did you mean 'gpu_quota'?",
            "argocd/clusters.yaml:8:16: error: clusters[2].gpu_quota: Input should be a valid "
            "integer",
        ] == sorted(problems)

    def test_a_misspelt_cap_fails_the_check(self, repo, capsys):
        """The experiment would otherwise have no GPU-hour cap at all."""
        (repo.root / "argocd" / "clusters.yaml").write_text(
            "clusters:\n  - name: gpu-cluster-1\n    gpu_quota: 8\n"
            "    max_gpu_hour_per_experiment: 5\n" + RESULTS
        )
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        assert "did you mean 'max_gpu_hours_per_experiment'?" in capsys.readouterr().err

    def test_the_right_clusters_are_still_checked(self, repo, capsys):
        """A broken cluster does not hide what is wrong with a definition on a right one."""
        (repo.root / "argocd" / "clusters.yaml").write_text(
            "clusters:\n  - name: gpu-cluster-1\n    gpu_quota: 2\n"
            + RESULTS
            + "  - name: gpu-cluster-2\n    gpu_qouta: 16\n"
        )
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        err = capsys.readouterr().err
        assert "argocd/clusters.yaml:12:5: error: clusters[1]: unknown key 'gpu_qouta'" in err
        assert "more than the 2 GPUs cluster 'gpu-cluster-1' allows (its gpu_quota)" in err

    def test_a_name_listed_twice(self, repo):
        problems = _problems(
            repo,
            "clusters:\n  - name: a\n    gpu_quota: 1\n  - name: a\n    gpu_quota: 2\n",
        )
        assert [
            "argocd/clusters.yaml:4:11: error: clusters[1].name: cluster 'a' listed twice "
            "(first on line 2)"
        ] == problems

    def test_a_misspelt_list_key(self, repo):
        problems = _problems(repo, "cluster:\n  - name: a\n    gpu_quota: 1\n")
        assert [
            "argocd/clusters.yaml:1:1: error: missing required key 'clusters'",
            "argocd/clusters.yaml:1:1: error: unknown key 'cluster'; did you mean 'clusters'?",
        ] == sorted(problems)

    def test_results_target(self, repo):
        """A literal forge token is refused like one in a definition; an SSH key needs the host
        keys it trusts."""
        problems = _problems(
            repo,
            "clusters:\n  - name: a\n    gpu_quota: 1\n"
            + RESULTS.replace("{secret: hpo-forge-token, key: token}", "ghp_literal")
            + "  - name: b\n    gpu_quota: 1\n"
            + RESULTS
            + "      ssh_key: {secret: hpo-git-ssh, key: id_ed25519}\n",
        )
        assert 2 == len(problems)
        assert problems[0].startswith(
            "argocd/clusters.yaml:10:14: error: clusters[0].results.token: a literal credential "
            "is not allowed here"
        )
        assert (
            "argocd/clusters.yaml:13:5: error: clusters[1].results: ssh_key and ssh_known_hosts "
            "go together: an SSH push must know the host key it trusts"
        ) == problems[1]


class TestImageMistakes:
    def test_a_misspelt_role_is_located_and_nothing_is_rendered(self, repo, capsys):
        """Without a trainer image there is nothing to render with: the check says why, once."""
        text = (repo.root / "images.yaml").read_text().replace("\ntrainer:", "\ntrainr:")
        (repo.root / "images.yaml").write_text(text)
        line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("trainr:"))
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        *problems, summary = capsys.readouterr().err.splitlines()
        assert [
            f"images.yaml:{line}:1: error: missing required key 'trainer'",
            f"images.yaml:{line}:1: error: unknown key 'trainr'; did you mean 'trainer'?",
        ] == problems
        assert "hpo check: failed: 1 file(s), 2 error(s), 0 warning(s)" == summary

    def test_an_unpinned_image_at_its_value(self, repo):
        (repo.root / "images.yaml").write_text(
            "trainer: ghcr.io/o/trainer:1\nstorage_init: ghcr.io/o/s:1\n"
            "results: ghcr.io/o/results\nsuggestion: ghcr.io/o/g:latest\n"
        )
        assert [
            "images.yaml:3:10: error: results: image 'ghcr.io/o/results' is not pinned: add a "
            "version tag or an @sha256 digest",
            "images.yaml:4:13: error: suggestion: image 'ghcr.io/o/g:latest' uses 'latest': pin "
            "a version tag or an @sha256 digest",
        ] == [str(p) for p in load_repo_config(repo.root).problems]
