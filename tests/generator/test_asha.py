"""hpo-asha at review: what hpo check refuses, what it says a run may cost, and the Experiment
(Job, PyTorchJob and TrainJob trials) and results Job it renders."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import itertools
import subprocess
from fractions import Fraction

import pytest

from generator.checks.asha import plan_of, worst_case_full_runs, worst_trial_mix
from generator.cli import main
from generator.commands.project import check_definition_text
from generator.loading.definition import parse_definition
from generator.loading.repo_config import load_repo_config
from suggestion.asha import Plan
from tests.generator.conftest import MULTI_NODE_DEFINITION, REPO, VALID_DEFINITION


def asha(text: str = VALID_DEFINITION, settings: str = "{random_state: 3}", trials=30) -> str:
    return text.replace(
        "algorithm_name: random\nmax_trial_count: 10",
        f"algorithm_name: hpo-asha\nalgorithm_settings: {settings}\nmax_trial_count: {trials}",
    )


ASHA = asha()


def _check(repo, capsys, text: str) -> tuple[int, str, str]:
    repo.write(text)
    code = main(["check", "experiments/demo-exp"])
    out, err = capsys.readouterr()
    return code, out, err


def _errors(err: str) -> list[str]:
    """Each error as LINE:COL: error: MESSAGE."""
    path = "experiments/demo-exp/experiment.yaml:"
    return [line.removeprefix(path) for line in err.splitlines() if ": error: " in line]


def _report(text: str, cluster: str = "gpu-cluster-1"):
    text = text.replace("cluster: gpu-cluster-1", f"cluster: {cluster}")
    report = check_definition_text(
        text, "experiments/demo-exp/experiment.yaml", None, REPO, load_repo_config(REPO)
    )
    assert [] == [str(p) for p in report.problems if p.is_error]
    return report


class TestRefused:
    """What hpo-asha cannot do is refused at the key to change, saying why."""

    def test_several_objectives(self, repo, capsys):
        text = ASHA.replace(
            "objective_metric_name: train_loss\nobjective_type: minimize",
            "objectives:\n  - {metric: train_loss, type: minimize}\n"
            "  - {metric: trainable_params, type: minimize}",
        )
        code, _, err = _check(repo, capsys, text)
        assert 1 == code
        assert [
            "24:3: error: objectives: hpo-asha promotes a configuration by its rank among one "
            "rung's results, which needs one objective: use objective_metric_name and "
            "objective_type"
        ] == _errors(err)

    def test_early_stopping(self, repo, capsys):
        code, _, err = _check(repo, capsys, ASHA + "early_stopping: {algorithm_name: medianstop}\n")
        assert 1 == code
        assert [
            "30:1: error: early_stopping: hpo-asha stops configurations itself (only the best "
            "of each rung go on): remove early_stopping"
        ] == _errors(err)

    def test_objective_goal(self, repo, capsys):
        code, _, err = _check(repo, capsys, ASHA + "objective_goal: 0.3\n")
        assert 1 == code
        assert [
            "30:17: error: objective_goal: under hpo-asha a lower rung's value could reach the "
            "goal and end the experiment before any configuration is trained in full: remove "
            "objective_goal"
        ] == _errors(err)

    def test_a_searched_parameter_named_like_the_rung(self, repo, capsys):
        text = ASHA.replace("    lora_alpha: 8\n", "    hpo_rung: {search: int, min: 1, max: 3}\n")
        code, _, err = _check(repo, capsys, text)
        assert 1 == code
        assert [
            "20:5: error: trainer_parameters.lora_config.hpo_rung: hpo-asha adds a parameter "
            "of this name to the Experiment itself (the rung, the configuration): rename this one"
        ] == [e for e in _errors(err) if "hpo_rung:" in e]

    @pytest.mark.parametrize(
        ("settings", "message"),
        [
            ("{reduction_factor: 1}", "reduction_factor must be >= 2, got 1"),
            ("{rungs: two}", "rungs must be a whole number, got 'two'"),
            ("{sampler: cmaes}", "sampler must be one of random, tpe, gp, got 'cmaes'"),
            ("{eta: 3}", "eta is not a setting of hpo-asha (it accepts: random_state, "),
        ],
    )
    def test_settings_by_the_services_rules(self, repo, capsys, settings, message):
        code, _, err = _check(repo, capsys, asha(settings=settings))
        assert 1 == code
        [error] = _errors(err)
        assert error.split(": error: ")[1].startswith(f"algorithm_settings.{message}")

    def test_too_few_trials_to_reach_the_top_rung(self, repo, capsys):
        code, _, err = _check(repo, capsys, asha(trials=12))
        assert 1 == code
        assert [
            "27:18: error: max_trial_count: 12 trials cannot bring a configuration to the top "
            "rung, where hpo-asha takes the best trial from: that needs 13 trials (rungs 3, "
            "reduction_factor 3); raise max_trial_count or lower rungs"
        ] == _errors(err)

    def test_the_objective_is_read_at_the_rung_boundary(self, repo, capsys):
        code, _, err = _check(repo, capsys, ASHA + "metric_strategies: {train_loss: min}\n")
        assert 1 == code
        assert [
            "30:33: error: metric_strategies.train_loss: hpo-asha ranks each trial by the value "
            "it reports at its rung's last step, so the objective's strategy is latest, not min"
        ] == _errors(err)

    def test_a_valid_definition_passes(self, repo, capsys):
        code, _, err = _check(repo, capsys, ASHA)
        assert 0 == code, err


def _brute_force(trials: int, plan: Plan) -> Fraction:
    """The costliest of every mix of rungs the promotion rule allows, tried one by one."""
    shares = [Fraction(1, plan.reduction_factor ** (plan.rungs - 1))]
    for k in range(1, plan.rungs):
        shares.append(
            Fraction(1, plan.reduction_factor ** (plan.rungs - 1 - k))
            - Fraction(1, plan.reduction_factor ** (plan.rungs - k))
        )
    best = Fraction(0)
    for cuts in itertools.combinations_with_replacement(range(trials + 1), plan.rungs - 1):
        bounds = (0, *cuts, trials)
        mix = [high - low for low, high in itertools.pairwise(bounds)]  # every split of trials
        if all(mix[k + 1] <= mix[k] // plan.reduction_factor for k in range(plan.rungs - 1)):
            best = max(best, sum((s * x for s, x in zip(shares, mix, strict=True)), Fraction(0)))
    return best


class TestWorstCase:
    """max_trial_count counts trials (configuration x rung); the worst case is the costliest mix
    of rungs that many trials can form, in full runs of the trial deadline."""

    @pytest.mark.parametrize(("rungs", "eta"), [(2, 2), (2, 3), (3, 2), (3, 3), (4, 2)])
    def test_equals_every_mix_tried(self, rungs, eta):
        plan = Plan(eta, rungs, "random")
        for trials in range(1, 26):
            assert _brute_force(trials, plan) == worst_case_full_runs(trials, plan), trials

    def test_thirty_trials_of_the_default_rungs(self):
        """Shares 1/9, 2/9 and 6/9: 21 trials at rung 0, 7 at rung 1 and 2 at the top."""
        plan = plan_of(parse_definition(ASHA, "x").spec)
        assert (21, 7, 2) == worst_trial_mix(30, plan)
        assert Fraction(47, 9) == worst_case_full_runs(30, plan)

    def test_hpo_check_says_what_a_trial_is(self, repo, capsys):
        _, out, _ = _check(repo, capsys, ASHA)
        assert out.startswith(
            "experiments/demo-exp/experiment.yaml: worst case 30 trials (hpo-asha: a trial is "
            "one configuration at one rung; at most 5.22 full runs of training) x 2 GPU(s) x "
            "6 h = 62.6667 GPU-hours; no budget; storage: "
        )

    def test_the_pull_requests_summary_counts_full_runs(self, repo, capsys, tmp_path):
        repo.write(ASHA)
        summary = tmp_path / "summary.md"
        assert 0 == main(["check", "--summary-md", str(summary)])
        assert "| hpo-asha | 30 (2) | 2 | 4 | 62.6667 (6 h per full run) |" in summary.read_text()

    def test_the_cluster_limit_applies_to_the_rung_mix(self, repo, capsys):
        """100 full runs would be 1200 GPU-hours, over the cluster's 500; 100 trials of rungs
        cost at most 17.6 full runs (70 at rung 0, 23 at rung 1, 7 at the top): 211 GPU-hours."""
        code, out, err = _check(repo, capsys, asha(trials=100))
        assert 0 == code, err
        assert "at most 17.6 full runs of training) x 2 GPU(s) x 6 h = 210.667 GPU-hours" in out


class TestRendered:
    """The Experiment declares what promotion needs, for every trial kind, and passes Katib's
    webhook rules, our schema and the shell-safety rule (no problem is reported)."""

    KINDS = {
        "Job": (ASHA, "gpu-cluster-1"),
        # One trial of 2 nodes x 2 GPUs at a time: beside the shipped example, within the quota.
        "PyTorchJob": (
            asha(MULTI_NODE_DEFINITION).replace(
                "parallel_trial_count: 2", "parallel_trial_count: 1"
            ),
            "gpu-cluster-1",
        ),
        "TrainJob": (ASHA, "gpu-cluster-2"),
    }

    @staticmethod
    def _trainer_args(experiment: dict) -> list[str]:
        trial = experiment["spec"]["trialTemplate"]["trialSpec"]
        if trial["kind"] == "TrainJob":
            return trial["spec"]["trainer"]["args"]
        if trial["kind"] == "PyTorchJob":
            pod = trial["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
        else:
            pod = trial["spec"]["template"]
        return pod["spec"]["containers"][0]["args"]

    @pytest.mark.parametrize("kind", sorted(KINDS))
    def test_rung_parameters_flags_and_objective(self, kind):
        text, cluster = self.KINDS[kind]
        experiment = _report(text, cluster).rendered.object_of_kind("Experiment")
        spec = experiment["spec"]
        assert kind == spec["trialTemplate"]["trialSpec"]["kind"]
        assert [
            {
                "name": "hpo_rung",
                "parameterType": "categorical",
                "feasibleSpace": {"list": ["0", "1", "2"], "distribution": "uniform"},
            },
            {
                "name": "hpo_config",
                "parameterType": "int",
                "feasibleSpace": {"min": "0", "max": "29", "distribution": "uniform"},
            },
        ] == spec["parameters"][2:]
        assert [
            {"name": "hpo_rung", "reference": "hpo_rung"},
            {"name": "hpo_config", "reference": "hpo_config"},
        ] == spec["trialTemplate"]["trialParameters"][2:4]
        assert [
            "--rung",
            "${trialParameters.hpo_rung}",
            "--rungs",
            "3",
            "--reduction-factor",
            "3",
            "--checkpoint-dir",
            "/workspace/checkpoints/demo-exp/config-${trialParameters.hpo_config}",
        ] == self._trainer_args(experiment)[-8:]
        assert {
            "type": "minimize",
            "objectiveMetricName": "train_loss",
            "additionalMetricNames": ["trained_steps"],
            "metricStrategies": [
                {"name": "train_loss", "value": "latest"},
                {"name": "trained_steps", "value": "latest"},
            ],
        } == spec["objective"]

    def test_settings_shape_the_rungs(self):
        text = asha(settings="{rungs: 4, reduction_factor: 2}")
        experiment = _report(text).rendered.object_of_kind("Experiment")
        assert ["0", "1", "2", "3"] == experiment["spec"]["parameters"][2]["feasibleSpace"]["list"]
        args = self._trainer_args(experiment)
        assert ["--rungs", "4", "--reduction-factor", "2"] == args[-6:-2]

    def test_other_algorithms_are_unchanged(self):
        experiment = _report(VALID_DEFINITION).rendered.object_of_kind("Experiment")
        assert ["learning_rate", "r"] == [p["name"] for p in experiment["spec"]["parameters"]]
        assert "--rung" not in self._trainer_args(experiment)


def _claim_size(report) -> str:
    claim = report.rendered.object_of_kind("PersistentVolumeClaim")
    return claim["spec"]["resources"]["requests"]["storage"]


class TestVolume:
    """The volume holds the checkpoints too: at most one per configuration at once."""

    def test_the_default_size_adds_the_checkpoints(self):
        """r up to 32 on the query and value projections of an 8B model: 13,631,488 trainable
        parameters, 12 bytes each (weights and Adam's two moments), for 30 configurations:
        4.6 GiB, so 5 GiB beside the default 10."""
        assert "15Gi" == _claim_size(_report(ASHA))
        assert "10Gi" == _claim_size(_report(VALID_DEFINITION))

    def test_targeting_every_layer_takes_more(self):
        text = ASHA.replace("    bias: none\n", "    bias: none\n    target_modules: all-linear\n")
        assert "39Gi" == _claim_size(_report(text))

    def test_a_size_too_small_for_them_is_a_warning(self, repo, capsys):
        text = ASHA.replace(
            "resources_per_trial:", "storage_config: {size: 2Gi}\nresources_per_trial:"
        )
        code, out, err = _check(repo, capsys, text)
        assert 0 == code
        assert (
            "29:24: warning: storage_config.size: 2Gi is less than the 5 GiB hpo-asha's "
            "checkpoints may take at once, besides the model and dataset"
        ) in err
        assert "storage: volume 2Gi; hpo-asha checkpoints up to 5 GiB at once" in out

    def test_hpo_check_prints_the_estimate(self, repo, capsys):
        _, out, _ = _check(repo, capsys, ASHA)
        [line] = out.splitlines()  # one line per definition
        assert line.endswith(
            "; no budget; storage: volume 15Gi; hpo-asha checkpoints up to 5 GiB at once (30 "
            "configurations x 156 MiB, estimated for an 8B model; set storage_config.size to "
            "size the volume yourself)"
        )


def _results_pod(report) -> dict:
    job = next(
        o for o in report.rendered.objects if o["metadata"]["name"] == "demo-exp-results"
        and o["kind"] == "Job"
    )  # fmt: skip
    return job["spec"]["template"]["spec"]


class TestResultsJobCleansUp:
    """The results Job mounts the experiment's own checkpoints folder read-write, the rest of
    the volume read-only, and empties it once the Experiment has finished."""

    def test_its_own_folder_read_write_the_cache_read_only(self):
        pod = _results_pod(_report(ASHA))
        [container] = pod["containers"]
        assert [
            {"name": "workspace", "mountPath": "/workspace", "readOnly": True},
            {"name": "workspace", "mountPath": "/checkpoints", "subPath": "checkpoints/demo-exp"},
        ] == container["volumeMounts"][2:]
        assert {"name": "HPO_CHECKPOINT_DIR", "value": "/checkpoints"} in container["env"]
        [volume] = [v for v in pod["volumes"] if v["name"] == "workspace"]
        assert {"claimName": "demo-exp"} == volume["persistentVolumeClaim"]

    def test_a_shared_claim_shows_it_only_its_own_folder(self):
        text = ASHA.replace(
            "resources_per_trial:", "storage_config: {existing_claim: shared}\nresources_per_trial:"
        )
        pod = _results_pod(_report(text))
        assert "checkpoints/demo-exp" == pod["containers"][0]["volumeMounts"][-1]["subPath"]

    @pytest.mark.parametrize(
        "storage",
        ["resume_policy: LongRunning", "storage_config: {access_modes: [ReadWriteOncePod]}"],
    )
    def test_not_when_resumable_or_unmountable(self, storage):
        pod = _results_pod(
            _report(ASHA.replace("resources_per_trial:", f"{storage}\nresources_per_trial:"))
        )
        [container] = pod["containers"]
        assert "HPO_CHECKPOINT_DIR" not in {e["name"] for e in container["env"]}
        assert "/checkpoints" not in {m["mountPath"] for m in container["volumeMounts"]}

    def test_other_algorithms_keep_a_read_only_volume(self):
        pod = _results_pod(_report(VALID_DEFINITION))
        [volume] = [v for v in pod["volumes"] if v["name"] == "workspace"]
        assert {"claimName": "demo-exp", "readOnly": True} == volume["persistentVolumeClaim"]


class TestImmutability:
    """Under hpo-asha max_trial_count bounds hpo_config's ids in the Experiment's parameters,
    which Katib never lets change: --base says so at max_trial_count."""

    def test_a_changed_trial_count_needs_a_new_experiment(self, repo, capsys):
        repo.write(ASHA)
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "."],
            ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"],
        ):
            subprocess.run(["git", *args], cwd=repo.root, check=True, capture_output=True)
        repo.write(asha(trials=40))

        assert 1 == main(["check", "--base", "main"])

        assert [
            "27:18: error: max_trial_count changed since main: under hpo-asha it also bounds the "
            "Experiment's hpo_config parameter (the configurations' ids), and Katib refuses any "
            "change to parameters; create a new experiment instead: "
            "experiments/demo-exp-v2/experiment.yaml with name: demo-exp-v2, and warm_start: "
            "{from: [experiments/demo-exp]} to start from this one's trials once its results are "
            "merged; when demo-exp-v2 has its results, hpo archive experiments/demo-exp "
            "(--force if it never finished; docs/lifecycle.md)"
        ] == _errors(capsys.readouterr().err)
