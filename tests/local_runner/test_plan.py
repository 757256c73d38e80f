"""What the runner takes from the rendered objects, and the demo's inputs."""

from __future__ import annotations

import copy
import io
import json

import pytest
from rich.console import Console

from generator.commands.project import check_definition_file
from generator.loading.repo_config import load_repo_config
from local_runner import demo_inputs
from local_runner.errors import UnsupportedLocallyError
from local_runner.plan import build_plan
from local_runner.progress import LiveProgress, PlainProgress
from local_runner.records import FinishedTrial
from local_runner.session import download_job
from tests.local_runner.conftest import REPO, definition


@pytest.fixture
def rendered(repo):
    path = repo.write(
        "plan",
        definition(
            "plan",
            max_failed_trial_count=2,
            additional_metric_names=["eval_loss"],
            dataset_provider_parameters={
                "repo_id": "./data/reviews",
                "split": "train",
                "eval_split": "test",
            },
            early_stopping={"algorithm_name": "medianstop", "algorithm_settings": {}},
        ),
    )
    report = check_definition_file(path, repo.root, load_repo_config(repo.root))
    assert [] == [p for p in report.problems if p.is_error]
    return report.rendered


class TestPlan:
    """The plan is read from the Katib Experiment and the storage-init Job as rendered."""

    def test_fields(self, rendered):
        plan = build_plan(rendered.object_of_kind("Experiment"), download_job(rendered.objects))

        assert ("fetch-model", "fetch-dataset") == tuple(c.name for c in plan.downloads)
        assert ("python", "-m", "storage_init", "model") == plan.downloads[0].argv[:4]
        assert ("python", "-m", "trainer") == plan.trial.argv[:3]
        assert ["learning_rate", "r"] == [p.name for p in plan.parameters]
        assert ("train_loss", "eval_loss") == plan.metric_names
        # The objective follows its direction; other metrics count their latest report.
        assert {"train_loss": "min", "eval_loss": "latest"} == plan.metric_strategies
        assert (4, 2, 2) == (
            plan.max_trial_count,
            plan.parallel_trial_count,
            plan.max_failed_trial_count,
        )
        assert (3, 4) == (plan.early_stopping.min_trials_required, plan.early_stopping.start_step)

    def test_several_nodes_are_refused(self, rendered):
        experiment = copy.deepcopy(rendered.object_of_kind("Experiment"))
        experiment["spec"]["trialTemplate"]["trialSpec"]["kind"] = "PyTorchJob"
        with pytest.raises(UnsupportedLocallyError, match="num_workers"):
            build_plan(experiment, download_job(rendered.objects))


class TestProgress:
    """Plain lines for logs; a live table on a terminal, with the best trial so far."""

    BEST = FinishedTrial(3, "exp-003", "Succeeded", {"r": "4"}, {"loss": 0.25}, [0.25], 12.0)

    def test_plain_lines(self):
        out = io.StringIO()
        PlainProgress("loss", out).finished(self.BEST, "", self.BEST)
        assert [
            "finished  exp-003  Succeeded          loss=0.25  (12.0s)",
            "best      exp-003  loss=0.25",
        ] == out.getvalue().splitlines()

    def test_live_table(self):
        out = io.StringIO()
        console = Console(file=out, force_terminal=True, width=120)
        live = LiveProgress("loss", "exp", console=console)
        live.update([], [self.BEST], self.BEST)
        live.close()
        assert "exp: 1 Succeeded; best exp-003 loss=0.25" in out.getvalue()


class TestDemoInputs:
    """The demo's inputs come from the installed packages, balanced and the same every time."""

    def test_writes_model_and_balanced_reviews_once(self, tmp_path):
        assert 0 == demo_inputs.main(["--workdir", str(tmp_path)])
        demo = tmp_path / "demo"
        assert sorted(demo_inputs.MODEL_FILES) == sorted(
            p.name for p in (demo / "minilm").iterdir()
        )
        for split, rows in (("train", demo_inputs.TRAIN_ROWS), ("test", demo_inputs.TEST_ROWS)):
            lines = (demo / "imdb" / f"{split}.jsonl").read_text().splitlines()
            labels = [json.loads(line)["label"] for line in lines]
            assert rows == len(labels)
            assert abs(sum(labels) - rows / 2) <= rows / 4
        before = {p: p.stat().st_mtime_ns for p in demo.rglob("*") if p.is_file()}

        assert 0 == demo_inputs.main(["--workdir", str(tmp_path)])

        assert before == {p: p.stat().st_mtime_ns for p in demo.rglob("*") if p.is_file()}

    def test_demo_definition_is_valid(self):
        path = REPO / "experiments/minilm-imdb-demo/experiment.yaml"
        report = check_definition_file(path, REPO, load_repo_config(REPO))
        assert [] == [str(p) for p in report.problems if p.is_error]
