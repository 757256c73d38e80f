"""results.yaml's one model: what the writer writes, every reader reads back, typed, and a file
that does not fit is refused at its line, naming the field."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest
import yaml

from generator.errors import ExitCode
from generator.loading.definition import parse_definition
from generator.rendering.warm_start import generated_settings
from generator.spec.results_file import RESULTS_FILE, ResultsFile, ResultsFileError
from results.files import render_files, write_results
from results.katib_objects import result_from_katib
from results.model import (
    BudgetOutcome,
    Objective,
    TrialResult,
    WarmStartRecord,
    build_result,
)
from suggestion.history import warm_start_of
from tests.results.conftest import DIGEST, SPACE
from tests.support import katib

WHERE = f"experiments/{katib.NAME}/{RESULTS_FILE}"
LOSS = Objective("train_loss", "minimize")
ACCURACY = Objective("eval_accuracy", "maximize")


def _katib(state: str = "Succeeded"):
    return result_from_katib(katib.experiment_in(state), katib.default_trials(), space=SPACE)


def _several():
    """Every optional section: several objectives, a budget, a warm start."""
    trials = [
        TrialResult("a", "Succeeded", {"r": 8}, {"train_loss": 0.3, "eval_accuracy": 0.8}),
        TrialResult("b", "EarlyStopped", {"r": 16}, {"train_loss": 0.4, "eval_accuracy": 0.9}),
    ]
    return build_result(
        experiment="x",
        status="Succeeded",
        reason=None,
        objective=LOSS,
        trials=trials,
        objectives=(LOSS, ACCURACY),
        budget=BudgetOutcome("gpu_hours", 10, 9.25, True),
        warm_start=WarmStartRecord(("experiments/a",), 7),
    )


def _written(result) -> str:
    return render_files(result, DIGEST)[RESULTS_FILE].decode("utf-8")


def _refusal(text: str) -> str:
    with pytest.raises(ResultsFileError) as raised:
        ResultsFile.from_yaml(text, WHERE)
    assert ExitCode.PROBLEMS == raised.value.exit_code
    return str(raised.value)


def _line(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


class TestRoundTrip:
    """Whatever the writer writes, the model reads back to the same bytes."""

    @pytest.mark.parametrize(
        "result", [_katib(), _katib("Failed"), _several()], ids=["katib", "failed", "several"]
    )
    def test_read_then_written_again_is_the_same_file(self, result):
        text = _written(result)
        assert text == ResultsFile.from_yaml(text, WHERE).to_yaml()

    def test_values_keep_their_types(self):
        best = ResultsFile.from_yaml(_written(_katib()), WHERE).best_trial
        assert {"learning_rate": 3.2e-05, "r": 16, "use_rslora": True} == best.parameters
        assert [float, int, bool] == [type(best.parameters[k]) for k in sorted(best.parameters)]

    def test_optional_sections_are_read_when_written(self):
        record = ResultsFile.from_yaml(_written(_several()), WHERE)
        assert [("train_loss", "minimize"), ("eval_accuracy", "maximize")] == [
            (o.metric, o.type) for o in record.all_objectives
        ]
        assert (["a", "b"], 10, ["experiments/a"]) == (
            [p.name for p in record.pareto_front],
            record.budget.limit,
            record.warm_start.from_,
        )

    def test_strings_that_read_as_numbers_stay_strings(self):
        """PyYAML writes `1e-4` and `0o17` plain, which YAML 1.2 reads as numbers."""
        odd = {"a": "1e-4", "b": "0o17", "c": "yes", "d": "3", "e": "", "f": "adamw"}
        trial = TrialResult("t", "Succeeded", odd, {"train_loss": 0.5})
        result = build_result(
            experiment="x", status="Succeeded", reason=None, objective=LOSS, trials=[trial]
        )
        text = _written(result)
        assert "    a: '1e-4'\n" in text and "    b: '0o17'\n" in text and "    f: adamw\n" in text
        assert odd == ResultsFile.from_yaml(text, WHERE).best_trial.parameters  # YAML 1.2
        assert odd == yaml.safe_load(text)["best_trial"]["parameters"]  # and YAML 1.1


class TestRefused:
    """A file that is not the writer's is refused with its path, line and field."""

    def test_an_unknown_key_at_its_line(self):
        text = _written(_katib()).replace("  status: Failed\n", "  status: Failed\n  retries: 2\n")
        line = _line(text, "  retries: 2")
        assert f"{WHERE}:{line}:3: trials[3]: unknown key 'retries'" == _refusal(text)

    def test_a_missing_key_names_its_section(self):
        text = _written(_katib()).replace("    trainer: ghcr.io/example/hpo-trainer:0.1.0\n", "")
        line = _line(text, "  images:")
        expected = f"{WHERE}:{line}:3: provenance.images: missing required key 'trainer'"
        assert expected == _refusal(text)

    def test_a_value_of_the_wrong_type(self):
        text = _written(_katib()).replace("    train_loss: 0.412\n", "    train_loss: '0.412'\n", 1)
        line = _line(text, "    train_loss: '0.412'")
        expected = (
            f"{WHERE}:{line}:17: best_trial.metrics.train_loss: must be a number, not a string"
        )
        assert expected == _refusal(text)

    def test_an_unknown_status(self):
        text = _written(_katib()).replace("  status: Failed\n", "  status: Done\n")
        assert _refusal(text).startswith(
            f"{WHERE}:{_line(text, '  status: Done')}:11: trials[3].status: Input should be "
        )

    def test_every_problem_is_counted(self):
        text = _written(_katib()).replace("status: Succeeded", "status: Done")
        assert _refusal(text).endswith("(and 3 more)")

    def test_not_yaml_or_not_a_mapping(self):
        assert f"{WHERE}:1:1: a results file is a YAML mapping" == _refusal("- a\n")
        assert _refusal("experiment: [x\n").startswith(f"{WHERE}:2:1: invalid YAML")


DEFINITION = katib.DEFINITION.replace(f"name: {katib.NAME}", "name: later").replace(
    "algorithm_name: random\n",
    f"algorithm_name: hpo-tpe\nwarm_start: {{from: [experiments/{katib.NAME}]}}\n",
)


class TestWarmStart:
    """Warm start reads the earlier experiment's results.yaml as the writer left it."""

    def _settings(self, root):
        loaded = parse_definition(DEFINITION, "experiments/later/experiment.yaml")
        assert loaded.spec is not None, loaded.problems
        return generated_settings(loaded.spec, root, loaded.document)

    def test_the_written_succeeded_trials_seed_the_search(self, tmp_path):
        folder = tmp_path / "experiments" / katib.NAME
        folder.mkdir(parents=True)
        write_results(folder, _katib(), DIGEST)
        generated = self._settings(tmp_path)
        assert [False] == [p.is_error for p in generated.problems]  # the Failed one: a warning
        assert f"3 trials from experiments/{katib.NAME}; 1 dropped (1 not Succeeded)" == (
            generated.note
        )
        seen = {
            (o.assignments["learning_rate"], o.assignments["r"], o.assignments["use_rslora"])
            + (o.metrics["train_loss"],)
            for o in warm_start_of(generated.settings)
        }
        expected = {
            ("3.2e-05", "16", "true", 0.412),
            ("4.7e-05", "32", "false", 0.447),
            ("1.1e-05", "8", "false", 0.53),
        }
        assert expected == seen

    def test_a_file_that_does_not_fit_is_refused_where_it_is_named(self, tmp_path):
        folder = tmp_path / "experiments" / katib.NAME
        folder.mkdir(parents=True)
        text = _written(_katib()).replace("status: Failed", "status: Done")
        (folder / RESULTS_FILE).write_text(text, encoding="utf-8")
        [problem] = self._settings(tmp_path).problems
        line = _line(text, "  status: Done")
        assert (
            f"warm_start.from[0]: not a results file: {WHERE}:{line}:11: trials[3].status: "
        ) in problem.message
        assert "experiments/later/experiment.yaml" == problem.path
