"""TrainJob trials locally: the rendered trainer command, one process per node, as Trainer v2
would run them, with torchrun's rendezvous on loopback."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from generator.commands.project import check_definition_text, find_root
from generator.loading.repo_config import load_repo_config
from local_runner.plan import build_plan
from local_runner.progress import PlainProgress
from local_runner.session import download_job
from tests.local_runner.test_scheduler import run_scheduler
from tests.support import katib

TRAINJOB_CLUSTER = "gpu-cluster-2"  # argocd/clusters.yaml: trial_api TrainJob

# Stands in for the trainer under torchrun: writes what torchrun told this worker, prints a loss.
NODE_TRAINER = """\
import json, os, sys
out = os.path.join(os.path.dirname(__file__), "seen")
os.makedirs(out, exist_ok=True)
keys = ("PET_NNODES", "PET_NODE_RANK", "RANK", "WORLD_SIZE", "LOCAL_RANK")
seen = {key: os.environ.get(key) for key in keys}
seen["argv"] = sys.argv[1:4]
with open(os.path.join(out, f"rank-{os.environ['RANK']}.json"), "w") as handle:
    json.dump(seen, handle)
print(f"train_loss={0.5 + int(os.environ['RANK']) / 10}", flush=True)
"""


def _rendered_trainjob(nodes: int) -> tuple[dict, dict]:
    """The seed experiment rendered for the Trainer v2 cluster: its Experiment and download Job."""
    root = find_root(Path(__file__))
    text = katib.DEFINITION.replace("cluster: gpu-cluster-1", f"cluster: {TRAINJOB_CLUSTER}")
    nodes_key = f"resources_per_trial: {{num_workers: {nodes}, gpu: 2,"
    text = text.replace("resources_per_trial: {gpu: 2,", nodes_key)
    report = check_definition_text(
        text, f"experiments/{katib.NAME}/experiment.yaml", katib.NAME, root, load_repo_config(root)
    )
    assert [] == [p for p in report.problems if p.is_error]
    return report.rendered.object_of_kind("Experiment"), download_job(report.rendered.objects)


class TestPlan:
    """The plan reads the TrainJob's trainer: command, nodes, processes and resources per node."""

    def test_two_nodes_of_two_gpus(self):
        experiment, job = _rendered_trainjob(nodes=2)
        plan = build_plan(experiment, job)
        assert ("TrainJob", 2, 2, 4) == (
            plan.trial_api,
            plan.nodes,
            plan.procs_per_node,
            plan.gpus_per_trial,
        )
        assert ("torchrun", "--module", "trainer") == plan.trial.argv[:3]
        assert 8.0 == plan.cpus_per_trial  # 4 per node


class TestNodes:
    """Each node is a process with its PET_* variables; the first node's output is the trial's."""

    @pytest.fixture
    def root(self, tmp_path: Path) -> Path:
        package = tmp_path / "trainer"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "__main__.py").write_text(NODE_TRAINER)
        return tmp_path

    def test_two_nodes_rendezvous_and_report_from_the_first(self, root):
        experiment, job = _rendered_trainjob(nodes=2)
        plan = dataclasses.replace(
            build_plan(experiment, job),
            downloads=(),
            max_trial_count=1,
            parallel_trial_count=1,
            procs_per_node=1,
            gpus_per_trial=0,
            early_stopping=None,
        )
        progress = PlainProgress(plan.objective_metric, io.StringIO())
        scheduler, outcome = run_scheduler(root, plan, progress)
        [trial] = scheduler.finished
        assert ("Succeeded", {"train_loss": 0.5}) == (trial.status, trial.metrics)
        seen = {
            path.name: json.loads(path.read_text())
            for path in sorted((root / "trainer" / "seen").iterdir())
        }
        assert ["rank-0.json", "rank-1.json"] == list(seen)
        assert {("2", "0", "0", "2"), ("2", "1", "1", "2")} == {
            (s["PET_NNODES"], s["PET_NODE_RANK"], s["RANK"], s["WORLD_SIZE"]) for s in seen.values()
        }
        # The rendered arguments, /workspace rewritten onto the local work folder.
        model_flag, model_dir, dataset_flag = seen["rank-0.json"]["argv"]
        assert ("--model-dir", "--dataset-dir") == (model_flag, dataset_flag)
        assert model_dir.startswith(str(root / ".hpo" / "cache" / "models"))
        logs = sorted(p.name for p in (root / ".hpo" / plan.name / "logs").iterdir())
        assert [f"{trial.name}-node-1.log", f"{trial.name}.log"] == logs
