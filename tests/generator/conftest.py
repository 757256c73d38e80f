"""A throwaway copy of the repository's configuration and templates, so tests can add
definitions and render without touching the real experiments/ and rendered/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.support.results_files import results_yaml

REPO = Path(__file__).resolve().parents[2]

VALID_DEFINITION = """\
name: demo-exp
cluster: gpu-cluster-1
namespace: kubeflow
model_provider_parameters:
  model_uri: hf://meta-llama/Llama-3.2-1B
  revision: 0123456789abcdef0123456789abcdef01234567
  transformer_type: AutoModelForSequenceClassification
  num_labels: 2
  access_token: {secret: hf-token, key: token}
dataset_provider_parameters:
  repo_id: stanfordnlp/imdb
  split: train[:1000]
trainer_parameters:
  training_parameters:
    save_strategy: "no"
    learning_rate: {search: double, min: 1e-5, max: 5e-5}
    num_train_epochs: 3
  lora_config:
    r: {search: int, min: 8, max: 32}
    lora_alpha: 8
    lora_dropout: 0.1
    bias: none
objective_metric_name: train_loss
objective_type: minimize
algorithm_name: random
max_trial_count: 10
parallel_trial_count: 2
resources_per_trial: {gpu: 2, cpu: 4, memory: 10G}
"""


# The valid definition across two nodes: a PyTorchJob trial on a volume every node can mount.
MULTI_NODE_DEFINITION = VALID_DEFINITION.replace("gpu: 2,", "gpu: 2, num_workers: 2,").replace(
    "resources_per_trial:",
    "storage_config: {access_modes: [ReadWriteMany]}\nresources_per_trial:",
)


def pin_test_quota(clusters: Path) -> None:
    """Give gpu-cluster-1 the 8 GPUs the tests' quota arithmetic is written for, whatever the
    shipped file gives it; every other setting stays the shipped one."""
    text = clusters.read_text(encoding="utf-8")
    pinned = re.sub(r"(- name: gpu-cluster-1\n(?:    #.*\n)*    gpu_quota: )\d+", r"\g<1>8", text)
    assert pinned != text or "gpu_quota: 8\n" in text, "gpu-cluster-1 has no gpu_quota line"
    clusters.write_text(pinned, encoding="utf-8")


def results_of(name: str) -> str:
    """A results.yaml as a cluster's results Job writes it (with the Experiment's uid), for
    experiment `name`."""
    return results_yaml(name)


class Repo:
    """A repository root with helpers to write definitions into experiments/<name>/ and read
    what `hpo render` wrote."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, text: str, name: str = "demo-exp") -> Path:
        path = self.root / "experiments" / name / "experiment.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def finish(self, name: str = "demo-exp") -> None:
        """Merge the experiment's results."""
        (self.root / "experiments" / name / "results.yaml").write_text(results_of(name))

    def rendered_experiment(self, name: str = "demo-exp", cluster: str = "gpu-cluster-1") -> dict:
        path = self.root / "rendered" / cluster / name / f"experiment-{name}.yaml"
        return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for item in ("templates", "images.yaml", "argocd/clusters.yaml"):
        source, target = REPO / item, tmp_path / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    pin_test_quota(tmp_path / "argocd" / "clusters.yaml")
    (tmp_path / "experiments").mkdir()
    monkeypatch.chdir(tmp_path)
    return Repo(tmp_path)
