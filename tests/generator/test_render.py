"""Rendering: golden files, determinism, validation of what is rendered, --check, atomicity."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.rendering.render import to_yaml
from generator.validate.katib_defaults import drift_findings, webhook_defaults
from generator.validate.objects import validate_object
from tests.generator.conftest import MULTI_NODE_DEFINITION, REPO, VALID_DEFINITION

SEED = "llama-3-2-1b-imdb"


def _rendered(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted((root / "rendered").rglob("*.yaml"))
    }


class TestGolden:
    """The committed rendered/ is exactly what the committed definitions render."""

    def test_repository_is_fresh(self, monkeypatch, capsys):
        monkeypatch.chdir(REPO)
        assert 0 == main(["render", "--check"]), capsys.readouterr().err

    def test_seed_example_objects(self):
        """The seed renders its Experiment, the cache (claim and download Job), the results
        Job with its ConfigMap and RBAC, and (its cluster has a secret store) the ExternalSecrets
        of its two Secrets: nothing missing, nothing extra."""
        folder = REPO / "rendered" / "gpu-cluster-1" / SEED
        assert [
            f"configmap-{SEED}-results.yaml",
            f"experiment-{SEED}.yaml",
            f"externalsecret-{SEED}.hf-token.yaml",
            f"externalsecret-{SEED}.hpo-forge-token.yaml",
            f"job-{SEED}-results.yaml",
            f"job-{SEED}-storage-init.yaml",
            f"persistentvolumeclaim-{SEED}.yaml",
            f"role-{SEED}-results.yaml",
            f"rolebinding-{SEED}-results.yaml",
            f"serviceaccount-{SEED}-results.yaml",
        ] == sorted(p.name for p in folder.iterdir())
        experiment = yaml.safe_load((folder / f"experiment-{SEED}.yaml").read_text())
        spec = experiment["spec"]
        assert 10 == spec["maxTrialCount"]
        assert 2 == spec["parallelTrialCount"]
        assert {
            "type": "minimize",
            "objectiveMetricName": "train_loss",
            "metricStrategies": [{"name": "train_loss", "value": "min"}],
        } == spec["objective"]
        assert [
            {
                "name": "learning_rate",
                "parameterType": "double",
                "feasibleSpace": {"min": "1e-05", "max": "5e-05", "distribution": "uniform"},
            },
            {
                "name": "r",
                "parameterType": "int",
                "feasibleSpace": {"min": "8", "max": "32", "distribution": "uniform"},
            },
        ] == spec["parameters"]
        container = spec["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]
        assert [
            "torchrun",
            "--standalone",
            "--nproc-per-node=2",
            "--module",
            "trainer",
        ] == container["command"]
        assert "learning_rate:float=${trialParameters.learning_rate}" in container["args"]
        assert "r:int=${trialParameters.r}" in container["args"]
        assert "save_strategy:str=no" in container["args"]
        assert {"cpu": "4", "memory": "10G", "nvidia.com/gpu": 2} == container["resources"][
            "limits"
        ]


class TestDeterminism:
    """Same input, byte-identical output, whatever the working directory or run."""

    def test_twice_identical(self, repo):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        first = _rendered(repo.root)
        (repo.root / "rendered").rename(repo.root / "previous")
        assert 0 == main(["render"])
        assert first == _rendered(repo.root)

    def test_no_absolute_paths_or_timestamps(self, repo):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        for text in _rendered(repo.root).values():
            assert str(repo.root) not in text
            assert "creationTimestamp" not in text

    def test_numbers_that_look_like_strings_stay_strings(self):
        """1e-05 must not become a float for YAML 1.1 readers (kubectl, Argo CD)."""
        text = to_yaml({"min": "1e-05", "flag": "no", "n": "8"})
        assert 'flag: \'no\'\nmin: "1e-05"\nn: "8"\n' == text


class TestRenderedObjectsAreValid:
    """Every rendered object passes kubernetes-validate, Katib's rules and the policies."""

    def test_repository_objects(self):
        for path in sorted((REPO / "rendered").rglob("*.yaml")):
            obj = yaml.safe_load(path.read_text())
            assert [] == validate_object(obj), path

    def test_webhook_would_change_nothing(self):
        for path in sorted((REPO / "rendered").rglob("experiment-*.yaml")):
            obj = yaml.safe_load(path.read_text())
            assert obj == webhook_defaults(obj)
            assert [] == drift_findings(obj)

    def test_metric_strategies(self, repo):
        """The objective follows its direction, other metrics their latest value unless set."""
        text = (
            VALID_DEFINITION.replace(
                "  split: train[:1000]\n", "  split: train[:1000]\n  eval_split: test[:200]\n"
            )
            + "additional_metric_names: [eval_loss, eval_accuracy]\n"
            + "metric_strategies: {eval_accuracy: max}\n"
        )
        repo.write(text)
        assert 0 == main(["render"])
        experiment = repo.rendered_experiment()
        assert [
            {"name": "train_loss", "value": "min"},
            {"name": "eval_loss", "value": "latest"},
            {"name": "eval_accuracy", "value": "max"},
        ] == experiment["spec"]["objective"]["metricStrategies"]

    def test_multi_node_renders_pytorchjob(self, repo):
        repo.write(MULTI_NODE_DEFINITION)
        assert 0 == main(["render"])
        experiment = repo.rendered_experiment()
        template = experiment["spec"]["trialTemplate"]
        assert "PyTorchJob" == template["trialSpec"]["kind"]
        assert "pytorch" == template["primaryContainerName"]
        assert {"training.kubeflow.org/job-role": "master"} == template["primaryPodLabels"]
        replicas = template["trialSpec"]["spec"]["pytorchReplicaSpecs"]
        assert (1, 1) == (replicas["Master"]["replicas"], replicas["Worker"]["replicas"])
        command = replicas["Master"]["template"]["spec"]["containers"][0]["command"]
        assert ["torchrun", "--nnodes=2", "--nproc-per-node=2", "--module", "trainer"] == command

    def test_existing_claim_shares_the_cache(self, repo):
        """With existing_claim no claim is rendered and every pod mounts the shared one."""
        repo.write(VALID_DEFINITION + "storage_config: {existing_claim: shared-hpo-cache}\n")
        assert 0 == main(["render"])
        folder = repo.root / "rendered/gpu-cluster-1/demo-exp"
        assert not list(folder.glob("persistentvolumeclaim-*"))
        job = yaml.safe_load((folder / "job-demo-exp-storage-init.yaml").read_text())
        experiment = yaml.safe_load((folder / "experiment-demo-exp.yaml").read_text())
        trial_pod = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
        for pod in (job["spec"]["template"]["spec"], trial_pod):
            claims = [
                v["persistentVolumeClaim"]["claimName"]
                for v in pod["volumes"]
                if "persistentVolumeClaim" in v
            ]
            assert ["shared-hpo-cache"] == claims

    def test_ssh_push_mounts_key_and_host_keys(self, repo):
        """An SSH results target mounts the deploy key and known_hosts read-only from Secrets,
        and the Job still passes validation (restricted Pod Security included). The cluster
        takes its Secrets from a store: the Job mounts the experiment's own copy."""
        clusters = repo.root / "argocd/clusters.yaml"
        clusters.write_text(
            clusters.read_text()
            .replace(
                "      token: {secret: hpo-forge-token, key: token}\n",
                "      token: {secret: hpo-forge-token, key: token}\n"
                "      ssh_key: {secret: hpo-git-ssh, key: id_ed25519}\n"
                "      ssh_known_hosts: {secret: hpo-git-ssh, key: known_hosts}\n",
            )
            .replace("        # hpo-git-ssh:", "        hpo-git-ssh:")
        )
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        job = yaml.safe_load(
            (repo.root / "rendered/gpu-cluster-1/demo-exp/job-demo-exp-results.yaml").read_text()
        )
        pod = job["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
        assert "/etc/hpo-git-ssh/id_key" == env["HPO_GIT_SSH_KEY"]
        assert "/etc/hpo-git-ssh/known_hosts" == env["HPO_GIT_SSH_KNOWN_HOSTS"]
        volume = next(v for v in pod["volumes"] if v["name"] == "git-ssh")
        assert [
            {
                "secret": {
                    "name": "demo-exp.hpo-git-ssh",
                    "items": [{"key": "id_ed25519", "path": "id_key"}],
                }
            },
            {
                "secret": {
                    "name": "demo-exp.hpo-git-ssh",
                    "items": [{"key": "known_hosts", "path": "known_hosts"}],
                }
            },
        ] == volume["projected"]["sources"]
        assert [] == validate_object(job)

    def test_ssh_key_needs_known_hosts(self, repo, capsys):
        clusters = repo.root / "argocd/clusters.yaml"
        clusters.write_text(
            clusters.read_text().replace(
                "      token: {secret: hpo-forge-token, key: token}\n",
                "      token: {secret: hpo-forge-token, key: token}\n"
                "      ssh_key: {secret: hpo-git-ssh, key: id_ed25519}\n",
            )
        )
        repo.write(VALID_DEFINITION)
        assert 1 == main(["check"])
        assert "argocd/clusters.yaml:" in capsys.readouterr().err

    def test_credentials_only_by_reference(self, repo):
        """On a cluster whose Secrets are created by hand, by the name the definition gives."""
        repo.write(VALID_DEFINITION.replace("cluster: gpu-cluster-1", "cluster: gpu-cluster-2"))
        assert 0 == main(["render"])
        job = yaml.safe_load(
            (
                repo.root / "rendered/gpu-cluster-2/demo-exp/job-demo-exp-storage-init.yaml"
            ).read_text()
        )
        env = job["spec"]["template"]["spec"]["initContainers"][0]["env"]
        assert {
            "name": "HF_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}},
        } in env


class TestTrialCommandThroughKatibShell:
    """Katib's StdOut collector runs the trial as `sh -c "<words joined by spaces>"`; multi-node
    workers run the words as they are. Both must hand the trainer the same argv (katib#2587)."""

    def _argv_both_ways(self, words: list[str]) -> tuple[list[str], list[str]]:
        probe = [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))"]
        direct = subprocess.run(probe + words, capture_output=True, text=True, check=True)
        joined = " ".join(shlex.quote(w) for w in probe) + " " + " ".join(words)
        wrapped = subprocess.run(["sh", "-c", joined], capture_output=True, text=True, check=True)
        return json.loads(direct.stdout), json.loads(wrapped.stdout)

    def test_rendered_arguments_survive_the_shell(self, repo):
        text = VALID_DEFINITION.replace(
            "    bias: none\n",
            "    bias: none\n    target_modules: [q_proj, v_proj]\n"
            '    modules_to_save: ["score head"]\n',
        )
        repo.write(text)
        assert 0 == main(["render"])
        experiment = repo.rendered_experiment()
        pod = experiment["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]
        words = [
            re.sub(r"\$\{trialParameters\.[^}]+\}", "7", w) for w in pod["containers"][0]["args"]
        ]
        direct, wrapped = self._argv_both_ways(words)
        assert direct == wrapped  # neither is the expected value: they must agree
        from trainer.config import parse_typed

        lora = dict(parse_typed(words[i + 1]) for i, w in enumerate(words) if w == "--lora")
        assert ["q_proj", "v_proj"] == lora["target_modules"]
        assert ["score head"] == lora["modules_to_save"]

    def test_unsafe_hand_written_argument_is_flagged(self):
        # A Job trial: gpu-cluster-1 runs the training operator's kinds.
        rendered = REPO / "rendered" / "gpu-cluster-1"
        obj = yaml.safe_load(next(rendered.rglob("experiment-*.yaml")).read_text())
        container = obj["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"][
            "containers"
        ][0]
        container["args"].append('--training=target_modules:json=["q","v"]')
        messages = [f.message for f in validate_object(obj)]
        assert any("is changed by the shell" in m for m in messages), messages


class TestManifestFuzz:
    """Malformed manifests get located errors from hpo check, never a traceback."""

    CASES = [
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: a}\nspec: []\n",
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: 5}\nspec: {}\n",
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: a}\n"
        "spec: {maxTrialCount: '10', parameters: [oops]}\n",
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: a}\n"
        "spec: {earlyStopping: medianstop, trialTemplate: {trialParameters: [oops]}}\n",
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: a}\n"
        "spec: {trialTemplate: {trialSpec: {apiVersion: batch/v1, kind: Job, spec: []}}}\n",
        "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: abc_def}\n",
        "apiVersion: v1\nkind: [Pod]\n",
        "apiVersion: batch/v1\nkind: Job\nspec: {template: {spec: {containers: [x]}}}\n",
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec: {pytorchReplicaSpecs: [1]}\n",
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec: {pytorchReplicaSpecs: {Master: 1}}\n",
        "- a\n- b\n",
        "apiVersion: v1\nkind: Secret\n---\n[1, 2]\n",
    ]

    @pytest.mark.parametrize("text", CASES)
    def test_no_traceback(self, repo, tmp_path, text):
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(text)
        done = subprocess.run(
            [sys.executable, "-m", "generator.cli", "check", str(manifest)],
            capture_output=True,
            text=True,
            cwd=repo.root,
        )
        assert 1 == done.returncode, done.stderr
        assert "Traceback" not in done.stderr
        assert ": error: " in done.stderr


class TestRenderCheck:
    """--check writes nothing and fails on stale or hand-edited output; failures write nothing."""

    def test_hand_edit_detected(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        target = repo.root / "rendered/gpu-cluster-1/demo-exp/experiment-demo-exp.yaml"
        target.write_text(target.read_text().replace("maxTrialCount: 10", "maxTrialCount: 11"))
        before = _rendered(repo.root)
        assert 1 == main(["render", "--check"])
        assert (
            "experiment-demo-exp.yaml:1:1: error: differs from its definition"
            in capsys.readouterr().err
        )
        assert before == _rendered(repo.root)

    def test_any_file_counts(self, repo, capsys):
        """Argo CD applies .yml and .json files too, so they cannot hide in rendered/."""
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        (repo.root / "rendered/gpu-cluster-1/demo-exp/extra.json").write_text("{}")
        assert 1 == main(["render", "--check"])
        assert "extra.json:1:1: error: not rendered from any definition" in capsys.readouterr().err

    def test_orphan_file_detected(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        (repo.root / "rendered/gpu-cluster-1/demo-exp/extra.yaml").write_text("a: 1\n")
        assert 1 == main(["render", "--check"])
        assert "not rendered from any definition" in capsys.readouterr().err
        assert 0 == main(["render"])
        assert not (repo.root / "rendered/gpu-cluster-1/demo-exp/extra.yaml").exists()

    def test_one_bad_definition_writes_nothing(self, repo):
        repo.write(VALID_DEFINITION)
        repo.write(
            VALID_DEFINITION.replace("name: demo-exp", "name: second").replace(
                "lora_alpha: 8", "lora_alfa: 8"
            ),
            name="second",
        )
        assert 1 == main(["render"])
        assert not (repo.root / "rendered").exists()

    def test_local_experiments_not_rendered(self, repo):
        repo.write(
            VALID_DEFINITION.replace("cluster: gpu-cluster-1", "cluster: local")
            .replace("hf://meta-llama/Llama-3.2-1B", "./models/llama")
            .replace("  revision: 0123456789abcdef0123456789abcdef01234567\n", "")
        )
        assert 0 == main(["check"])
        assert 0 == main(["render"])
        assert {} == _rendered(repo.root)


class TestHandWrittenManifests:
    """hpo check FILE.yaml lints any Experiment: Katib's rules are errors, policies warnings."""

    def test_rules_and_policies(self, repo, capsys, tmp_path):
        manifest = tmp_path / "exp.yaml"
        manifest.write_text("""\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: 1-bad
spec:
  maxTrialCount: 2
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.01", max: "0.1"}
  trialTemplate:
    primaryContainerName: training
    trialParameters:
      - name: learningRate
        reference: lr
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: training
                image: docker.io/acme/train
                command: [python, train.py, "--lr=${trialParameters.learningRate}"]
""")
        assert 1 == main(["check", str(manifest)])
        err = capsys.readouterr().err
        assert (
            "exp.yaml:4:9: error: metadata.name: name '1-bad' must start with a lowercase letter"
            in err
        )
        # Katib defaults parallelTrialCount to 3, more than maxTrialCount 2: rejected on apply.
        assert (
            "exp.yaml:5:1: error: spec.parallelTrialCount: should be less than or equal to "
            "spec.maxTrialCount"
        ) in err
        assert "image: image 'docker.io/acme/train' is not pinned" in err
        assert (
            "exp.yaml:5:1: warning: spec.parallelTrialCount: Katib's webhook would set "
            "parallelTrialCount: 3"
        ) in err
        assert "hpo check: failed: 1 file(s), 2 error(s)" in err


class TestImmutability:
    """--base refuses changes Katib would reject and names a new experiment to create."""

    def _git(self, root, *args):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    def test_changed_search_space(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        assert 0 == main(["render"])
        self._git(repo.root, "init", "-q", "-b", "main")
        self._git(repo.root, "add", ".")
        self._git(repo.root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base")
        repo.write(
            VALID_DEFINITION.replace("max: 32}", "max: 64}").replace(
                "max_trial_count: 10", "max_trial_count: 20"
            )
        )
        assert 1 == main(["check", "--base", "main"])
        err = capsys.readouterr().err
        assert "experiments/demo-exp/experiment.yaml:19:" in err
        assert "changed since main" in err and "name: demo-exp-v2" in err

    def test_counts_may_change(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        self._git(repo.root, "init", "-q", "-b", "main")
        self._git(repo.root, "add", ".")
        self._git(repo.root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base")
        repo.write(VALID_DEFINITION.replace("max_trial_count: 10", "max_trial_count: 20"))
        assert 0 == main(["check", "--base", "main"]), capsys.readouterr().err

    def test_fewer_trials_warns(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        self._git(repo.root, "init", "-q", "-b", "main")
        self._git(repo.root, "add", ".")
        self._git(repo.root, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base")
        repo.write(VALID_DEFINITION.replace("max_trial_count: 10", "max_trial_count: 6"))
        assert 0 == main(["check", "--base", "main"])
        assert ":26:18: warning: max_trial_count went down since main" in capsys.readouterr().err

    def test_unknown_ref(self, repo, capsys):
        repo.write(VALID_DEFINITION)
        self._git(repo.root, "init", "-q", "-b", "main")
        assert 3 == main(["check", "--base", "nope"])
        assert "--base nope: no such commit" in capsys.readouterr().err


class TestWorstCase:
    """hpo check prints the worst case in GPU-hours and writes the PR summary."""

    def test_worst_case_line(self, repo, capsys, tmp_path):
        repo.write(VALID_DEFINITION)
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--summary-md", str(summary)])
        out = capsys.readouterr().out
        assert "worst case 10 trials x 2 GPU(s) x 6 h = 120 GPU-hours; no budget" in out
        row = "| `demo-exp` | — | gpu-cluster-1 | random | 10 (2) | 2 | 4 | 120 (6 h per trial) |"
        assert row + " no budget | valid |" in summary.read_text()

    def test_summary_against_base(self, repo, tmp_path):
        """With --base, each experiment says whether it is new, changed or unchanged, and the
        total counts only what the pull request adds or changes."""
        repo.write(VALID_DEFINITION)
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@e"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo.root, check=True)
        subprocess.run(["git", "add", "."], cwd=repo.root, check=True)
        subprocess.run([*git, "commit", "-qm", "base"], cwd=repo.root, check=True)
        repo.write(VALID_DEFINITION.replace("demo-exp", "second-exp"), name="second-exp")
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--base", "main", "--summary-md", str(summary)])
        text = summary.read_text()
        assert "| `demo-exp` | unchanged |" in text
        assert "| `second-exp` | new |" in text
        assert "At most, new or changed since `main`: **120 GPU-hours**" in text


class TestSchemasExport:
    """kubeconform-layout schemas for the custom kinds, usable by jsonschema."""

    def test_export(self, tmp_path):
        import json

        import jsonschema

        assert 0 == main(["schemas", "export", str(tmp_path)])
        schema = json.loads((tmp_path / "experiment-kubeflow-v1beta1.json").read_text())
        experiment = yaml.safe_load(
            next((REPO / "rendered").rglob("experiment-*.yaml")).read_text()
        )
        jsonschema.validate(experiment, schema)
        experiment["spec"]["objectiv"] = {}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(experiment, schema)
        assert (tmp_path / "pytorchjob-kubeflow-v1.json").exists()
