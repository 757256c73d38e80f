"""`hpo status --kubeconfig`: the Experiments on the cluster, read through the Kubernetes API
(a local API server speaking the real wire format), refine what Git says."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from generator.cli import main
from generator.commands.status import ABSENT, NO_CONDITION, cluster_note
from generator.loading.lifecycle import Stage, State
from katib.objects import experiment_condition
from tests.status.conftest import REPO, definition, git, results_yaml
from tests.support import katib
from tests.support.kube_api import KubeServer


@pytest.fixture
def kube():
    with KubeServer() as server:
        yield server


def on_cluster(state: str | None, name: str, namespace: str = "kubeflow") -> dict:
    """The Experiment `name` in `state` (Running, Succeeded, Failed, Restarting; None: not yet
    seen by Katib's controller)."""
    obj = katib.experiment(None) if state is None else katib.experiment_in(state)
    obj = copy.deepcopy(obj)
    obj["metadata"].update(name=name, namespace=namespace)
    return obj


def kubeconfig(kube: KubeServer, tmp_path, context: str = "test") -> str:
    path = tmp_path / "kubeconfig"
    kube.kubeconfig(path)
    config = json.loads(path.read_text())
    config["contexts"][0]["name"] = config["current-context"] = context
    path.write_text(json.dumps(config))
    return str(path)


def rows(out: str) -> dict[str, str]:
    """Each experiment's row, by name."""
    return {
        line.split()[0]: line.strip() for line in out.splitlines() if line.startswith("  ") and
        not line.startswith("  EXPERIMENT")
    }  # fmt: skip


class TestRefined:
    """Git says where an experiment should be; the cluster says whether it got there."""

    def test_every_state_beside_the_cluster(self, repo, kube, tmp_path, capsys):
        for name in ("running", "unsynced", "done-early", "results-in", "released", "deleting"):
            repo.write(name, "experiment.yaml", definition(name, parallel=1))
        repo.write("results-in", "results.yaml", results_yaml("results-in"))
        for name in ("released", "deleting", "gone"):
            repo.write(name, "experiment.yaml", definition(name, parallel=1))
            repo.write(name, "results.yaml", results_yaml(name))
        repo.write("released", "archive.yaml", "stage: release\n")
        for name in ("deleting", "gone"):
            repo.write(name, "archive.yaml", "stage: delete\n")
        repo.commit("Merged")
        git(repo.root, "checkout", "--quiet", "-b", "more")
        repo.write("proposed", "experiment.yaml", definition("proposed", parallel=1))
        repo.write("elsewhere", "experiment.yaml", definition("elsewhere", "gpu-cluster-2"))
        repo.commit("Not merged on main")
        states = {
            "running": "Running",
            "done-early": "Succeeded",
            "results-in": "Restarting",
            "released": "Succeeded",
            "deleting": "Failed",
            "elsewhere": "Running",  # gpu-cluster-2 is not read
        }
        for name, state in states.items():
            kube.state.put(on_cluster(state, name))
        kube.state.put(on_cluster(None, "proposed"))
        code = main(["status", "--kubeconfig", kubeconfig(kube, tmp_path, "gpu-cluster-1")])
        out, err = capsys.readouterr()
        assert (0, "") == (code, err)
        assert (
            "The cluster gpu-cluster-1 was read through kubeconfig context 'gpu-cluster-1'; the "
            "others from Git only"
        ) == out.splitlines()[1]
        assert {
            "deleting": "deleting    archived            -              >= 1.00 (train_runtime x 2)"
            "  Failed: archive not synced yet",
            "done-early": "done-early  running             2 held         -"
            "                            Succeeded: finished on the cluster, results not merged "
            "yet",
            "gone": "gone        archived            -              >= 1.00 (train_runtime x 2)"
            "  absent: deleted from the cluster",
            "proposed": "proposed    proposed            2 once merged  -"
            "                            no condition yet: on the cluster, though not at main",
            "released": "released    archived (release)  -              >= 1.00 (train_runtime x "
            "2)  Succeeded: released; it leaves the cluster at the archive's delete stage",
            "results-in": "results-in  finished            -              >= 1.00 (train_runtime "
            "x 2)  Restarting: still runs trials, though its results are merged and the quota "
            "frees its GPUs",
            "running": "running     running             2 held         -"
            "                            Running",
            "unsynced": "unsynced    running             2 held         -"
            "                            absent: not synced yet",
            "elsewhere": "elsewhere   proposed  4 once merged  -",
        } == rows(out)

    def test_one_list_per_namespace(self, repo, kube, tmp_path, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        other = definition("beta").replace("namespace: kubeflow", "namespace: team-b")
        repo.write("beta", "experiment.yaml", other)
        repo.write("gamma", "experiment.yaml", definition("gamma", parallel=1))
        repo.commit("Three in two namespaces")
        kube.state.put(on_cluster("Running", "beta", "team-b"))
        kube.state.put(on_cluster("Running", "gamma", "kubeflow"))
        kube.state.put(on_cluster("Running", "beta", "kubeflow"))  # not beta's namespace
        main(["status", "--kubeconfig", kubeconfig(kube, tmp_path), "--cluster", "gpu-cluster-1"])
        found = rows(capsys.readouterr().out)
        assert found["alpha"].endswith("absent: not synced yet")
        assert found["beta"].endswith("4 held  -          Running")
        assert [
            "/apis/kubeflow.org/v1beta1/namespaces/kubeflow/experiments",
            "/apis/kubeflow.org/v1beta1/namespaces/team-b/experiments",
        ] == kube.state.requests

    def test_json_carries_the_condition_and_the_note(self, repo, kube, tmp_path, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        repo.commit("alpha")
        kube.state.put(on_cluster("Succeeded", "alpha"))
        args = ["--kubeconfig", kubeconfig(kube, tmp_path), "--cluster", "gpu-cluster-1"]
        main(["status", "--format", "json", *args])
        document = json.loads(capsys.readouterr().out)
        assert ("gpu-cluster-1", "test") == (document["read_cluster"], document["context"])
        assert {
            "condition": "Succeeded",
            "note": "finished on the cluster, results not merged yet",
        } == document["experiments"][0]["on_cluster"]


class TestStrays:
    def test_experiments_git_no_longer_names_are_listed(self, repo, kube, tmp_path, capsys):
        """A folder deleted instead of archived leaves its Experiment: it is shown, and an
        Experiment someone made from a notebook (no generator label) is not ours to list."""
        repo.write("running", "experiment.yaml", definition("running", parallel=1))
        repo.commit("Merged")
        kube.state.put(on_cluster("Running", "running"))
        orphan = on_cluster("Succeeded", "orphan")
        orphan["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "hpo-generator"}
        kube.state.put(orphan)
        kube.state.put(on_cluster("Running", "from-a-notebook"))
        code = main(["status", "--kubeconfig", kubeconfig(kube, tmp_path, "gpu-cluster-1")])
        out = capsys.readouterr().out
        assert 0 == code
        assert out.endswith(
            "\n\non gpu-cluster-1, not in Git (a folder deleted instead of archived leaves its "
            "objects; docs/lifecycle.md):\n  kubeflow/orphan  Succeeded\n"
        )
        assert "from-a-notebook" not in out
        main(
            [
                "status",
                "--format",
                "json",
                "--kubeconfig",
                kubeconfig(kube, tmp_path, "gpu-cluster-1"),
            ]
        )
        document = json.loads(capsys.readouterr().out)
        assert [{"namespace": "kubeflow", "name": "orphan", "condition": "Succeeded"}] == (
            document["strays"]
        )


class TestWhichCluster:
    """A kubeconfig reaches one cluster: named, or the one its context is named after, or the
    only one."""

    def test_a_context_that_names_no_cluster_needs_cluster(self, repo, kube, tmp_path, capsys):
        code = main(["status", "--kubeconfig", kubeconfig(kube, tmp_path)])
        assert 2 == code
        assert [
            "hpo: error: --kubeconfig: its context 'test' is not a cluster of "
            "argocd/clusters.yaml; name the cluster it reaches with --cluster (one of: "
            "gpu-cluster-1, gpu-cluster-2)"
        ] == capsys.readouterr().err.splitlines()
        assert [] == kube.state.requests

    def test_a_misspelt_cluster(self, repo, kube, tmp_path, capsys):
        args = ["--kubeconfig", kubeconfig(kube, tmp_path), "--cluster", "gpu-cluser-1"]
        assert 2 == main(["status", *args])
        assert [
            "hpo: error: --cluster gpu-cluser-1: not in argocd/clusters.yaml; did you mean "
            "'gpu-cluster-1'?"
        ] == capsys.readouterr().err.splitlines()

    def test_cluster_without_a_kubeconfig(self, repo, capsys):
        assert 2 == main(["status", "--cluster", "gpu-cluster-1"])
        assert [
            "hpo: error: --context and --cluster choose what --kubeconfig reads: give it"
        ] == capsys.readouterr().err.splitlines()

    def test_the_only_cluster(self, repo, kube, tmp_path, capsys):
        clusters = repo.root / "argocd" / "clusters.yaml"
        text = clusters.read_text()
        clusters.write_text(text[: text.index("  # A cluster set up with Kubeflow Trainer v2")])
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        assert 0 == main(["status", "--kubeconfig", kubeconfig(kube, tmp_path)])
        assert rows(capsys.readouterr().out)["alpha"].endswith("absent")


class TestClusterErrors:
    def test_forbidden_is_one_line_naming_the_permission(self, repo, kube, tmp_path, capsys):
        repo.write("alpha", "experiment.yaml", definition("alpha"))
        kube.state.forbidden = True
        args = ["--kubeconfig", kubeconfig(kube, tmp_path, "gpu-cluster-1")]
        assert 4 == main(["status", *args])
        out, err = capsys.readouterr()
        assert "" == out
        assert [
            "hpo: error: listing experiments of kubeflow: HTTP 403 forbidden (the "
            "ServiceAccount or kubeconfig user needs get/list/watch on experiments and trials, "
            "and patch on its experiment to enforce a budget and release it once finished)"
        ] == err.splitlines()

    def test_an_unknown_context_is_one_line(self, repo, kube, tmp_path, capsys):
        args = ["--kubeconfig", kubeconfig(kube, tmp_path), "--context", "nope"]
        assert 3 == main(["status", *args])
        assert [
            "hpo: error: the kubeconfig has no context 'nope' (it has: test)"
        ] == capsys.readouterr().err.splitlines()

    def test_a_missing_kubeconfig_is_one_line(self, repo, tmp_path, capsys):
        assert 3 == main(["status", "--kubeconfig", str(tmp_path / "missing")])
        err = capsys.readouterr().err.splitlines()
        assert 1 == len(err)
        assert err[0].startswith("hpo: error: no usable Kubernetes configuration")


class TestConditions:
    """Where an Experiment stands is the first True condition of Succeeded, Failed, Restarting,
    Running, Created; what it means beside Git is a note."""

    @pytest.mark.parametrize("state", ["Running", "Succeeded", "Failed", "Restarting"])
    def test_each_state_katib_writes(self, state):
        assert state == experiment_condition(katib.experiment_in(state))

    def test_created_only_and_none(self):
        created = katib.experiment_with_conditions(
            "x", 1, ("Created", "True"), ("Running", "False")
        )
        assert "Created" == experiment_condition(created)
        assert experiment_condition(katib.experiment(None)) is None

    @pytest.mark.parametrize(
        ("state", "stage", "condition", "note"),
        [
            (State.RUNNING, None, "Running", None),
            (State.RUNNING, None, "Created", None),
            (State.RUNNING, None, ABSENT, "not synced yet"),
            (State.RUNNING, None, "Failed", "finished on the cluster, results not merged yet"),
            (State.PROPOSED, None, ABSENT, None),
            (State.PROPOSED, None, NO_CONDITION, "on the cluster, though not at main"),
            (State.FINISHED, None, "Succeeded", None),
            (State.FINISHED, None, ABSENT, "gone from the cluster without an archive"),
            (State.ARCHIVED, Stage.DELETE, ABSENT, "deleted from the cluster"),
            (State.ARCHIVED, Stage.RELEASE, ABSENT, "deleted from the cluster"),
            (State.ARCHIVED, Stage.DELETE, "Running", "archive not synced yet"),
        ],
    )
    def test_notes(self, state, stage, condition, note):
        assert note == cluster_note(state, stage, condition, "main")


class TestRegistration:
    """Every `hpo` builds its parser with this command, `hpo results` in the results image too,
    which has neither the generator's validators nor a reason to load the command's modules."""

    def test_registering_imports_nothing_of_the_command(self):
        script = (
            "import argparse, sys, katib.cli\n"
            "katib.cli.register(argparse.ArgumentParser().add_subparsers())\n"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('generator', 'pykube', 'jsonschema_rs', 'katib'))))\n"
        )
        loaded = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
        assert ["katib", "katib.cli"] == loaded
