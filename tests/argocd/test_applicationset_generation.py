"""What the ApplicationSet generates: one Application per experiment, on its own cluster only."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import copy

import pytest
import yaml

from tests.argocd import manifests
from tests.argocd.appset_generation import TemplateError, cluster_params, generate

GPU_LABEL = {"argocd.argoproj.io/secret-type": "cluster", "hpo.example.org/gpu-cluster": "true"}
# Experiment names are DNS-1123 labels of at most 40 characters (the generator enforces it).
LONGEST_EXPERIMENT = "e" * 40


@pytest.fixture
def repo(tmp_path):
    """A checkout with two clusters' rendered experiments and some folders that are not ones."""
    for relative in [
        "rendered/gpu-cluster-1/llama-3-2-1b-imdb/experiment-llama-3-2-1b-imdb.yaml",
        "rendered/gpu-cluster-1/bert-conll/experiment-bert-conll.yaml",
        "rendered/gpu-cluster-2/gpt2-wikitext/experiment-gpt2-wikitext.yaml",
        "experiments/llama-3-2-1b-imdb/experiment.yaml",
    ]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kind: Experiment\n")
    return tmp_path


def secrets(*names, labels=GPU_LABEL):
    return [cluster_params(name, f"https://{name}.example.org:6443", labels) for name in names]


def summary(applications):
    return sorted(
        (a["spec"]["destination"]["name"], a["spec"]["source"]["path"], a["metadata"]["name"])
        for a in applications
    )


class TestGeneratedApplications:
    """The real argocd/applicationset.yaml, expanded over a real directory tree."""

    def test_each_cluster_gets_only_its_own_experiments(self, repo):
        applications = generate(
            manifests.applicationset(), secrets("gpu-cluster-1", "gpu-cluster-2"), repo
        )
        assert [
            (
                "gpu-cluster-1",
                "rendered/gpu-cluster-1/bert-conll",
                "bert-conll",
            ),
            (
                "gpu-cluster-1",
                "rendered/gpu-cluster-1/llama-3-2-1b-imdb",
                "llama-3-2-1b-imdb",
            ),
            (
                "gpu-cluster-2",
                "rendered/gpu-cluster-2/gpt2-wikitext",
                "gpt2-wikitext",
            ),
        ] == summary(applications)

    def test_a_cluster_without_the_label_gets_nothing(self, repo):
        unlabelled = secrets("gpu-cluster-2", labels={"argocd.argoproj.io/secret-type": "cluster"})
        applications = generate(
            manifests.applicationset(), secrets("gpu-cluster-1") + unlabelled, repo
        )
        assert {"gpu-cluster-1"} == {a["spec"]["destination"]["name"] for a in applications}

    def test_a_labelled_cluster_with_no_folder_gets_nothing(self, repo):
        assert [] == generate(manifests.applicationset(), secrets("gpu-cluster-9"), repo)

    def test_every_application_uses_the_fixed_project_and_its_labels(self, repo):
        applications = generate(manifests.applicationset(), secrets("gpu-cluster-1"), repo)
        for application in applications:
            assert "llm-hpo" == application["spec"]["project"]
            experiment = application["spec"]["source"]["path"].rsplit("/", 1)[1]
            assert {
                "hpo.example.org/cluster": "gpu-cluster-1",
                "hpo.example.org/experiment": experiment,
            } == application["metadata"]["labels"]

    def test_no_template_string_is_left_unrendered(self, repo):
        applications = generate(manifests.applicationset(), secrets("gpu-cluster-1"), repo)
        assert "{{" not in repr(applications)


class TestTemplateStrictness:
    """A misspelt parameter is an error, as it is for Argo CD with missingkey=error."""

    def test_unknown_parameter_is_refused(self, repo):
        appset = copy.deepcopy(manifests.applicationset())
        appset["spec"]["template"]["metadata"]["name"] = "{{.name}}-{{.path.basname}}"
        with pytest.raises(TemplateError, match="basname"):
            generate(appset, secrets("gpu-cluster-1"), repo)

    def test_template_functions_are_refused_rather_than_guessed(self, repo):
        appset = copy.deepcopy(manifests.applicationset())
        appset["spec"]["template"]["metadata"]["name"] = "{{ .name | trunc 10 }}"
        with pytest.raises(TemplateError, match="unsupported"):
            generate(appset, secrets("gpu-cluster-1"), repo)


class TestTheCommittedRepository:
    """The ApplicationSet over this repository's own rendered/ and cluster list."""

    def rendered_experiments(self):
        return sorted(p for p in (manifests.REPO_ROOT / "rendered").glob("*/*") if p.is_dir())

    def test_one_application_per_rendered_folder_named_after_its_experiment(self):
        names = [c["name"] for c in manifests.clusters()]
        applications = generate(manifests.applicationset(), secrets(*names), manifests.REPO_ROOT)
        expected = [
            (folder.parent.name, f"rendered/{folder.parent.name}/{folder.name}", folder.name)
            for folder in self.rendered_experiments()
        ]
        assert sorted(expected) == summary(applications)
        application_names = [a["metadata"]["name"] for a in applications]
        assert len(application_names) == len(set(application_names)), "names are unique"

    def test_application_name_is_the_instance_label_of_every_object(self):
        """Argo CD's label tracking writes the Application name into app.kubernetes.io/instance;
        when the label already holds that name, nothing is rewritten or reported as drift."""
        for folder in self.rendered_experiments():
            for path in sorted(folder.glob("*.yaml")):
                labels = yaml.safe_load(path.read_text())["metadata"].get("labels", {})
                instance = labels.get("app.kubernetes.io/instance", folder.name)
                assert folder.name == instance, path.name
