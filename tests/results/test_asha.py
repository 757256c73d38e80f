"""The results of an hpo-asha experiment say what happened: each trial's rung and own steps, the
best trial from the top rung only, each configuration's path, and what the rungs saved.

The experiment is `tests.support.katib_asha`'s: 3 rungs of 1, 3 and 9 steps, nine
configurations, three promoted once and one of them to the top; the lowest loss of all is a
rung-0 value, which Katib names optimal.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest
import yaml

from generator.spec.results_file import RESULTS_FILE, ResultsFile, ResultsFileError
from results.definition import asha_plan, search_space
from results.errors import ParameterTypeError
from results.files import render_files
from results.katib_objects import result_from_katib
from results.model import Objective, TrialResult, build_result, results_file
from results.render import pr_body, report_markdown
from tests.results.conftest import definition_record
from tests.support import katib, katib_asha

RECORD = definition_record(katib_asha.DEFINITION)
PLAN = asha_plan(RECORD.spec)


def _result(rows: tuple = katib_asha.TRIALS):
    trials = [katib_asha.asha_trial(*row) for row in rows]
    return result_from_katib(
        katib_asha.experiment(rows), trials, space=search_space(RECORD.spec), asha=PLAN
    )


def _record(rows: tuple = katib_asha.TRIALS) -> ResultsFile:
    return results_file(_result(rows), RECORD.sha256)


def _written(rows: tuple = katib_asha.TRIALS) -> dict:
    return yaml.safe_load(_record(rows).to_yaml())


def _name(suffix: str) -> str:
    return f"{katib.NAME}-{suffix}"


def _without(*suffixes: str) -> tuple:
    return tuple(row for row in katib_asha.TRIALS if row[0] not in suffixes)


class TestWhatMakesResultsRungAware:
    """The definition's algorithm decides, with the service's defaults filled in."""

    def test_the_plan_of_an_hpo_asha_definition(self):
        assert (3, 3) == (PLAN.rungs, PLAN.reduction_factor)

    def test_settings_left_out_take_the_services_defaults(self):
        text = katib_asha.DEFINITION.replace(
            "{rungs: 3, reduction_factor: 3, sampler: random}", "{rungs: 4}"
        )
        plan = asha_plan(definition_record(text).spec)
        assert (4, 3) == (plan.rungs, plan.reduction_factor)

    def test_no_plan_for_another_algorithm(self):
        assert None is asha_plan(definition_record().spec)


class TestTrials:
    """Every trial carries its configuration, rung and own steps; hpo_rung and hpo_config are
    not among its parameters."""

    def test_a_promoted_trial_as_written(self):
        text = _record().to_yaml()
        expected = f"""\
- name: {_name("a1c03")}
  config: 3
  rung: 1
  trained_steps: 2
  status: Succeeded
  parameters:
    learning_rate: 4.5e-05
    r: 8
    use_rslora: true
  metrics:
    eval_accuracy: 0.86
    train_loss: 0.44
    trained_steps: 2.0
"""
        assert expected in text

    def test_every_trial_is_placed_and_only_searched_parameters_are_listed(self):
        trials = _written()["trials"]
        placed = {t["name"]: (t["config"], t["rung"], t["trained_steps"]) for t in trials}
        expected = {
            _name(suffix): (config, rung, None if loss is None else katib_asha.OWN_STEPS[rung])
            for suffix, config, rung, *_, loss, _ in katib_asha.TRIALS
        }
        assert expected == placed
        assert [{"learning_rate", "r", "use_rslora"}] * 13 == [set(t["parameters"]) for t in trials]

    def test_a_trial_that_reported_no_steps_says_so(self):
        [failed] = [t for t in _written()["trials"] if t["status"] == "Failed"]
        assert (_name("a0c05"), None) == (failed["name"], failed["trained_steps"])
        assert "  trained_steps: null\n" in _record().to_yaml()

    def test_the_highest_rung_comes_first(self):
        rungs = [t["rung"] for t in _written()["trials"]]
        assert sorted(rungs, reverse=True) == rungs
        assert _name("a2c01") == _written()["trials"][0]["name"]

    def test_a_trial_hpo_asha_did_not_place_is_refused(self):
        trial = katib_asha.asha_trial(*katib_asha.TRIALS[0])
        trial["spec"]["parameterAssignments"] = trial["spec"]["parameterAssignments"][:-1]
        with pytest.raises(ParameterTypeError) as raised:
            result_from_katib(
                katib_asha.experiment(),
                [trial],
                space=search_space(RECORD.spec),
                asha=PLAN,
            )
        assert (
            f"trial {_name('a0c00')}: hpo-asha sets parameter hpo_config to a whole number, "
            "found none"
        ) == str(raised.value)

    def test_the_result_model_refuses_an_unplaced_trial_under_hpo_asha(self):
        unplaced = TrialResult("t", "Succeeded", {"r": 8}, {"train_loss": 0.3})
        with pytest.raises(ValueError, match="trials t lack a rung"):
            build_result(
                experiment="x",
                status="Succeeded",
                reason=None,
                objective=Objective("train_loss", "minimize"),
                trials=[unplaced],
                asha=PLAN,
            )


class TestBestTrial:
    """Only the top rung's trials compare with full runs, so only they may be best."""

    def test_the_top_rung_wins_over_a_lower_rungs_lower_loss(self):
        written = _written()
        lowest = min(
            (t for t in written["trials"] if t["metrics"].get("train_loss") is not None),
            key=lambda t: t["metrics"]["train_loss"],
        )
        assert (katib_asha.LOWEST_LOSS_TRIAL, 0) == (lowest["name"], lowest["rung"])
        best = written["best_trial"]
        assert (katib_asha.TOP_TRIAL, 2, 1, 0.35) == (
            best["name"],
            best["rung"],
            best["config"],
            best["metrics"]["train_loss"],
        )

    def test_without_a_top_rung_trial_there_is_no_best_trial(self):
        """Katib still names its rung-0 optimum, which does not stand in for a full run."""
        rows = _without("a2c01")
        assert (
            katib_asha.LOWEST_LOSS_TRIAL
            == (katib_asha.experiment(rows)["status"]["currentOptimalTrial"]["bestTrialName"])
        )
        assert None is _written(rows)["best_trial"]


class TestRungsSection:
    """What the trials trained against full runs of the same configurations."""

    def test_totals(self):
        # Eight rung-0 trials of 1 step (the failed one reported none), three of 2, one of 6;
        # configuration 1 climbed every rung: 1 + 2 + 6 = 9 steps, one full run.
        expected = {
            "count": 3,
            "reduction_factor": 3,
            "configurations": 9,
            "trained_steps": 20,
            "full_run_steps": 9,
        }
        assert expected == _written()["rungs"]
        assert 81 == _record().rungs.full_runs_steps

    def test_no_configuration_at_the_top_leaves_a_full_run_unknown(self):
        rungs = _record(_without("a2c01")).rungs
        assert (14, None) == (rungs.trained_steps, rungs.full_run_steps)
        assert None is rungs.full_runs_steps

    def test_full_runs_of_different_lengths_leave_it_unknown(self):
        """A searched batch size changes how many steps a full run has."""
        rows = _without("a0c08") + (("b1c03", 3, 2, "4.5e-05", "8", "true", "0.38", "11:20"),)
        trials = [katib_asha.asha_trial(*row) for row in rows[:-1]]
        trials.append(katib_asha.asha_trial(*rows[-1], steps=12))
        result = result_from_katib(
            katib_asha.experiment(rows), trials, space=search_space(RECORD.spec), asha=PLAN
        )
        rungs = results_file(result, RECORD.sha256).rungs
        assert (None, 19 + 12) == (rungs.full_run_steps, rungs.trained_steps)

    def test_top_rung_trials_are_the_full_runs(self):
        assert [katib_asha.TOP_TRIAL] == [t.name for t in _record().full_run_trials]


class TestFile:
    """The file reads back as written, and its rung fields hold together."""

    def test_read_then_written_again_is_the_same_file(self):
        text = render_files(_result(), RECORD.sha256)[RESULTS_FILE].decode()
        assert text == ResultsFile.from_yaml(text, "results.yaml").to_yaml()

    def _refusal(self, edit) -> str:
        document = _record().to_document()
        edit(document)
        with pytest.raises(ResultsFileError) as raised:
            ResultsFile.from_yaml(yaml.safe_dump(document, sort_keys=False), "results.yaml")
        return str(raised.value)

    def test_a_rung_without_a_configuration_is_refused(self):
        message = self._refusal(lambda d: d["trials"][1].pop("config"))
        assert (
            "results.yaml:48:3: trials[1]: config and rung are written together (hpo-asha), "
            "or neither"
        ) == message

    def test_a_rung_above_the_top_is_refused(self):
        def edit(document):
            document["trials"][1]["rung"] = 3

        assert "results.yaml:50:9: trials[1].rung: must be one of the rungs, 0 to 2" == (
            self._refusal(edit)
        )

    def test_a_trial_without_its_place_is_refused(self):
        def edit(document):
            for key in ("config", "rung", "trained_steps"):
                document["trials"][1].pop(key)

        assert "results.yaml:48:3: trials[1]: needs a config and a rung (hpo-asha)" == (
            self._refusal(edit)
        )

    def test_rungs_without_a_rungs_section_are_refused(self):
        message = self._refusal(lambda d: d.pop("rungs"))
        assert (
            "results.yaml:11:9: best_trial.rung: is written only with a rungs section (and 13 more)"
        ) == message


class TestReport:
    """report.md follows each configuration through the rungs and shows what they saved."""

    def test_each_configurations_path(self):
        report = report_markdown(_record())
        header = (
            "| configuration | rung 0 | rung 1 | rung 2 | steps | stopped at | learning_rate | r "
            "| use_rslora |"
        )
        rows = [
            "| 1 | 0.48 | 0.41 | **0.35** | 9 | top rung | 3e-05 | 16 | true |",
            "| 3 | 0.51 | 0.44 |  | 3 | rung 1 | 4.5e-05 | 8 | true |",
            "| 2 | 0.55 | 0.47 |  | 3 | rung 1 | 2e-05 | 32 | false |",
            "| 8 | 0.3 |  |  | 1 | rung 0 | 3.5e-05 | 24 | true |",
        ]
        lines = report.splitlines()
        at = lines.index(header)
        assert rows == lines[at + 2 : at + 6]
        assert "| 5 | Failed |  |  | - | rung 0: Failed | 2.5e-05 | 16 | false |" in lines

    def test_the_saving_against_full_runs(self):
        line = (
            "The trials trained **20** optimizer steps; full runs of the same 9 configurations "
            "would have trained **81** (9 × 9, the steps of a configuration that climbed every "
            "rung, its rungs added up): 75% fewer."
        )
        record = _record()
        assert line in report_markdown(record)
        assert line in pr_body(record)

    def test_every_trial_lists_its_configuration_rung_and_steps(self):
        report = report_markdown(_record())
        assert (
            "| # | trial | status | configuration | rung | steps | train_loss | learning_rate "
            "| r | use_rslora |"
        ) in report
        assert (
            f"| 5 | `{katib_asha.LOWEST_LOSS_TRIAL}` | Succeeded | 8 | 0 | 1 | 0.3 | 3.5e-05 "
            "| 24 | true |"
        ) in report
        assert "| Rungs (hpo-asha) | 3, each 3 times the steps of the one below;" in report

    def test_without_the_top_rung(self):
        report = report_markdown(_record(_without("a2c01")))
        assert "No top-rung trial reported `train_loss`." in report
        assert (
            "The trials trained 14 optimizer steps, over 9 configurations; what full runs of "
            "them would have trained is unknown: no configuration reached the top rung."
        ) in report

    def test_other_algorithms_reports_have_no_rungs(self):
        record = results_file(
            result_from_katib(
                katib.experiment_in("Succeeded"),
                katib.default_trials(),
                space=search_space(definition_record().spec),
            ),
            RECORD.sha256,
        )
        report = report_markdown(record)
        assert "## Rungs" not in report and "configuration" not in report
        assert "| # | trial | status | train_loss |" in report
