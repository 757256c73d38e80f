"""The search benchmark's scoring: the README's search claims rest on these numbers."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "local_search.py"
_SPEC = importlib.util.spec_from_file_location("local_search", _PATH)
local_search = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(local_search)


def test_seconds_and_trials_are_counted_in_completion_order_until_the_target():
    trials = [[30.0, 0.6], [20.0, None], [25.0, 0.40], [40.0, 0.30]]
    assert local_search.reach(trials, 0.41) == (75.0, 3)
    assert local_search.reach(trials, 0.2) is None


def test_each_seed_sets_its_own_target_from_the_arms_compared():
    outcomes = {
        1: {"a": [[10.0, 0.50], [10.0, 0.30]], "b": [[50.0, 0.301]]},
        2: {"a": [[10.0, 0.90]], "b": [[5.0, 0.40], [5.0, 0.60]]},
        3: {"a": [[10.0, 0.20]], "b": [[7.0, 0.70], [7.0, 0.21]]},
    }
    rows = local_search.table(outcomes).splitlines()[2:]
    # Seed 1 target 0.303: a after 20 s, b after 50 s. Seed 2 target 0.404: a never, b at 5 s.
    # Seed 3 target 0.202: a at 10 s, b never (0.21 is more than 1% away).
    assert rows[0] == "| a | 2/3 | 2 (1-2) | 20 (10-20) | 0.3000 (0.2000-0.9000) |"
    assert rows[1] == "| b | 2/3 | 1 (1-1) | 50 (5-50) | 0.3010 (0.2100-0.4000) |"


def test_a_seed_that_never_reached_the_target_ranks_after_every_seed_that_did():
    outcomes = {
        seed: {"slow": [[100.0, 1.0]] if seed < 3 else [[1.0, 0.5]], "fast": [[1.0, 0.5]]}
        for seed in (1, 2, 3)
    }
    slow = local_search.table(outcomes, ["slow", "fast"]).splitlines()[2]
    assert slow.startswith("| slow | 1/3 | not reached (1-1) | not reached (1-1) |")


@pytest.mark.parametrize("label", ["random", "tpe", "warm tpe", "gp", "warm gp"])
def test_only_the_search_differs_between_arms(label):
    arms = local_search.arms(seed=3, warm_from=4, trials=12)
    stopping = "tpe + medianstop"
    assert "early_stopping" in arms[stopping] and "early_stopping" not in arms[label]
    shared = {k: v for k, v in arms[label].items() if not k.startswith(("algorithm", "warm"))}
    assert shared == {
        k: v for k, v in arms[stopping].items() if not k.startswith(("algorithm", "early"))
    }
    assert arms[label]["max_trial_count"] == 12
    assert arms[label]["algorithm_settings"] == {"random_state": 3}


def test_a_warm_arm_is_run_again_when_the_run_it_starts_from_is():
    warm = local_search.arms(seed=1, warm_from=2, trials=12)["warm gp"]
    assert local_search._key("w", warm, "first-random-run") != local_search._key(
        "w", warm, "second-random-run"
    )
    assert local_search._key("w", warm) == local_search._key("w", dict(warm))


def _written_results(folder: Path) -> Path:
    """A run's results.yaml as the results writer leaves it."""
    from results.files import write_results
    from results.model import Objective, TrialResult, build_result

    trials = [
        TrialResult("run-000", "Succeeded", {"r": 8}, {"eval_loss": 0.41}),
        TrialResult("run-001", "Failed", {"r": 16}, {}),
        TrialResult("run-002", "EarlyStopped", {"r": 4}, {"eval_loss": 0.52, "train_loss": 0.3}),
    ]
    result = build_result(
        experiment="run",
        status="Succeeded",
        reason=None,
        objective=Objective("eval_loss", "minimize"),
        trials=trials,
    )
    folder.mkdir()
    write_results(folder, result, "0" * 64)
    return folder / "results.yaml"


def test_each_trials_objective_is_read_from_the_written_results(tmp_path):
    path = _written_results(tmp_path / "run")
    expected = {"run-000": 0.41, "run-001": None, "run-002": 0.52}
    assert expected == local_search.objectives_by_trial(path, "eval_loss")


def test_a_kept_results_file_the_model_refuses_is_run_again(tmp_path):
    path = _written_results(tmp_path / "run")
    assert local_search.usable(path)
    path.write_text(path.read_text().replace("counts:", "tallies:"))
    assert not local_search.usable(path)
    assert not local_search.usable(tmp_path / "never-written.yaml")
