"""argocd/katib-config-patch.yaml registers every algorithm of the suggestion service, and
`hpo katib-config` merges it into a cluster's katib-config ConfigMap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.commands.katib_config import KatibConfigError, merged
from suggestion.settings import ALGORITHMS

ROOT = Path(__file__).resolve().parents[2]
PATCH = (ROOT / "argocd" / "katib-config-patch.yaml").read_text(encoding="utf-8")
# A katib-config ConfigMap as a cluster returns it: Katib's own entries, server fields.
LIVE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: katib-config
  namespace: kubeflow
  resourceVersion: "4711"
  uid: 0b5f0c1e-0000-4000-8000-000000000001
data:
  katib-config.yaml: |
    apiVersion: config.kubeflow.org/v1beta1
    kind: KatibConfig
    init:
      controller:
        trialResources: [Job.v1.batch]
    runtime:
      suggestions:
        - algorithmName: random
          image: registry.example/katib/suggestion-hyperopt:v0.19.0
        - algorithmName: hpo-tpe
          image: registry.example/old/hpo-suggestion:0.0.1
"""


def _suggestions(configmap_text: str) -> dict[str, dict]:
    configmap = yaml.safe_load(configmap_text)
    config = yaml.safe_load(configmap["data"]["katib-config.yaml"])
    return {s["algorithmName"]: s for s in config["runtime"]["suggestions"]}


class TestPatch:
    def test_registers_every_algorithm_the_service_serves(self):
        assert set(_suggestions_of_patch()) == set(ALGORITHMS)

    def test_with_the_image_images_yaml_names(self):
        image = yaml.safe_load((ROOT / "images.yaml").read_text())["suggestion"]
        assert {e["image"] for e in _suggestions_of_patch().values()} == {image}


def _suggestions_of_patch() -> dict[str, dict]:
    return {s["algorithmName"]: s for s in yaml.safe_load(PATCH)["runtime"]["suggestions"]}


class TestMerge:
    def test_ours_are_added_or_replaced_and_katibs_kept(self):
        result = merged(LIVE, PATCH)
        suggestions = _suggestions(result)
        assert suggestions["random"]["image"].endswith("suggestion-hyperopt:v0.19.0")
        assert suggestions["hpo-tpe"] == _suggestions_of_patch()["hpo-tpe"]
        assert set(ALGORITHMS) < set(suggestions)
        config = yaml.safe_load(yaml.safe_load(result)["data"]["katib-config.yaml"])
        assert config["init"]["controller"]["trialResources"] == ["Job.v1.batch"]

    def test_server_fields_are_dropped_and_a_second_run_changes_nothing(self):
        once = merged(LIVE, PATCH)
        assert "resourceVersion" not in yaml.safe_load(once)["metadata"]
        assert merged(once, PATCH) == once

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("kind: Secret\n", "standard input is not a ConfigMap"),
            ("kind: ConfigMap\ndata: {other: x}\n", "has no data.katib-config.yaml"),
        ],
    )
    def test_wrong_input_is_one_clear_error(self, text, message):
        with pytest.raises(KatibConfigError, match=message):
            merged(text, PATCH)

    def test_the_command_reads_stdin_and_prints_the_configmap(self):
        done = subprocess.run(
            [sys.executable, "-m", "generator.cli", "katib-config"],
            input=LIVE,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout == merged(LIVE, PATCH)
