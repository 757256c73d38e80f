"""How a pod's command and environment become a local process's: paths, launchers, secrets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from local_runner.environment import container_env, secret_variable
from local_runner.errors import SecretNotSetError, UnsupportedLocallyError
from local_runner.plan import Command, LocalPlan
from local_runner.trials import check_references, substitute, trial_command
from local_runner.workspace import Workspace, local_argv

WORKSPACE = Workspace(Path("/repo"), Path("/repo/.hpo"), "exp")


def plan_with(argv: tuple[str, ...], trial_parameters: dict[str, str]) -> LocalPlan:
    from local_runner.plan import Parameter

    return LocalPlan(
        name="exp",
        objective_metric="train_loss",
        objective_type="minimize",
        goal=None,
        metric_strategies={"train_loss": "min"},
        algorithm="random",
        algorithm_settings={},
        early_stopping=None,
        parameters=(Parameter("learning_rate", "double", 0.1, 0.2),),
        trial_parameters=trial_parameters,
        trial=Command("trainer", argv),
        downloads=(),
        parallel_trial_count=1,
        max_trial_count=1,
        max_failed_trial_count=None,
    )


class TestWorkspacePaths:
    """/workspace is mapped onto the work folder; the cache is shared between experiments."""

    @pytest.mark.parametrize(
        ("pod", "local"),
        [
            ("/workspace/cache/models/abc", "/repo/.hpo/cache/models/abc"),
            ("/workspace/trials/exp-001", "/repo/.hpo/exp/trials/exp-001"),
            ("output_dir:str=/workspace/trials/x", "output_dir:str=/repo/.hpo/exp/trials/x"),
            ("/workspace", "/repo/.hpo/exp"),
            ("/workspaces/other", "/workspaces/other"),
            ("/workspace/cached/x", "/repo/.hpo/exp/cached/x"),
            ("--max-length", "--max-length"),
        ],
    )
    def test_trial_view(self, pod, local):
        assert local == WORKSPACE.trial_path(pod)

    def test_download_view_shares_the_cache_and_the_hub_home(self):
        assert "/repo/.hpo/cache" == WORKSPACE.download_path("/workspace/cache")
        assert "/repo/.hpo/.hf-home" == WORKSPACE.download_path("/workspace/.hf-home")

    def test_launchers_use_the_running_interpreter(self):
        assert [sys.executable, "-m", "trainer", "/repo/.hpo/exp/x"] == local_argv(
            ("python", "-m", "trainer", "/workspace/x"), WORKSPACE.trial_path
        )
        assert [sys.executable, "-m", "torch.distributed.run", "--standalone"] == local_argv(
            ("torchrun", "--standalone"), WORKSPACE.trial_path
        )


class TestSubstitution:
    """Placeholders become Katib's strings and the trial's name, in the rendered command."""

    def test_parameters_and_trial_name(self):
        plan = plan_with(
            (
                "python",
                "-m",
                "trainer",
                "--output-dir",
                "/workspace/trials/${trialParameters.trialName}",
                "--training",
                "learning_rate:float=${trialParameters.learning_rate}",
            ),
            {"learning_rate": "learning_rate", "trialName": "${trialSpec.Name}"},
        )

        argv = trial_command(plan, WORKSPACE, "exp-003", {"learning_rate": "0.125"})

        assert [
            sys.executable,
            "-m",
            "trainer",
            "--output-dir",
            "/repo/.hpo/exp/trials/exp-003",
            "--training",
            "learning_rate:float=0.125",
        ] == argv

    def test_substitute_leaves_other_dollar_signs(self):
        plan = plan_with(("x",), {"lr": "learning_rate"})
        assert "a=$HOME b=0.5" == substitute(
            "a=$HOME b=${trialParameters.lr}", plan, "t", {"learning_rate": "0.5"}
        )

    def test_unknown_reference_is_refused(self):
        plan = plan_with(("x",), {"ns": "${trialSpec.Namespace}"})
        with pytest.raises(UnsupportedLocallyError, match="trialSpec.Namespace"):
            check_references(plan)


class TestSecrets:
    """secretKeyRef values come from HPO_SECRET_<SECRET>_<KEY>, or the variable itself."""

    REF = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}

    def test_naming_rule(self):
        assert "HPO_SECRET_HF_TOKEN_TOKEN" == secret_variable("hf-token", "token")
        assert "HPO_SECRET_S3_CREDS_ACCESS_KEY" == secret_variable("s3.creds", "access-key")

    def test_value_from_the_secret_variable(self):
        env = container_env([self.REF], {"HPO_SECRET_HF_TOKEN_TOKEN": "t0k"}, str, "fetch-model")
        assert "t0k" == env["HF_TOKEN"]

    def test_variable_already_exported_is_kept(self):
        env = container_env([self.REF], {"HF_TOKEN": "mine"}, str, "fetch-model")
        assert "mine" == env["HF_TOKEN"]

    def test_missing_secret_names_what_to_export(self):
        with pytest.raises(SecretNotSetError, match="export HPO_SECRET_HF_TOKEN_TOKEN=") as e:
            container_env([self.REF], {}, str, "fetch-model")
        assert "fetch-model" in str(e.value)

    def test_aws_keys_are_left_to_boto3(self):
        ref = {
            "name": "AWS_ACCESS_KEY_ID",
            "valueFrom": {"secretKeyRef": {"name": "s3", "key": "id"}},
        }
        assert "AWS_ACCESS_KEY_ID" not in container_env([ref], {}, str, "fetch-dataset")

    def test_plain_values_are_rewritten_and_override_the_host(self):
        env = container_env(
            [{"name": "HF_HOME", "value": "/workspace/.hf-home"}],
            {"HF_HOME": "/elsewhere", "PATH": "/bin"},
            WORKSPACE.download_path,
            "fetch-model",
        )
        assert {"HF_HOME": "/repo/.hpo/.hf-home", "PATH": "/bin"} == env


class TestArchived:
    def test_an_archived_experiment_is_not_run_again(self, repo, monkeypatch, capsys):
        from generator.cli import main
        from tests.local_runner.conftest import definition

        repo.write("kept", definition("kept"))
        (repo.root / "experiments" / "kept" / "archive.yaml").write_text("stage: delete\n")
        monkeypatch.chdir(repo.root)
        assert 1 == main(["tune", "--local", "experiments/kept"])
        err = capsys.readouterr().err
        assert (
            "experiments/kept/experiment.yaml is archived: it is the record of a finished run; "
            "nothing was run. To search again, create a new experiment instead: "
            "experiments/kept-v2/experiment.yaml with name: kept-v2"
        ) in err
        assert not (repo.root / ".hpo" / "kept").exists()
