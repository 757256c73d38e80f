"""Katib's suggestion services' rules on algorithm settings, for hand-written Experiments too."""

# ruff: noqa: SIM300
from __future__ import annotations

import pytest

from generator.checks import algorithms
from generator.cli import main
from generator.validate import dotted
from generator.validate.katib_suggestion import suggestion_findings
from tests.support.katib_examples import PYTORCHJOB_EXPERIMENT, pytorchjob_experiment


def _findings(spec: dict) -> list[str]:
    return [f"{dotted(f.path)}: {f.message}" for f in suggestion_findings(spec)]


def _with(algorithm: str, settings: dict[str, str]) -> dict:
    spec = pytorchjob_experiment()["spec"]
    spec["algorithm"] = {
        "algorithmName": algorithm,
        "algorithmSettings": [{"name": k, "value": v} for k, v in settings.items()],
    }
    return spec


class TestEachServiceAcceptsItsOwnSettings:
    """Each algorithm takes exactly the settings its service reads, as the service parses them."""

    @pytest.mark.parametrize(
        ("algorithm", "settings"),
        [
            ("random", {"random_state": "7"}),
            ("tpe", {"gamma": "0.25", "prior_weight": "1.0", "n_EI_candidates": "24"}),
            ("multivariate-tpe", {"n_startup_trials": "5", "n_ei_candidates": "24"}),
            ("cmaes", {"restart_strategy": "bipop", "sigma": "0.5", "random_state": "3"}),
            ("bayesianoptimization", {"base_estimator": "GP", "acq_func": "EI"}),
            ("sobol", {}),
        ],
    )
    def test_accepted(self, algorithm, settings):
        assert [] == _findings(_with(algorithm, settings))

    @pytest.mark.parametrize(
        ("algorithm", "settings", "expected"),
        [
            (
                "random",
                {"gamma": "0.5"},
                "gamma is not a setting of random (it accepts: random_state)",
            ),
            (
                "tpe",
                {"n_startup_trials": "5"},
                "n_startup_trials is not a setting of tpe (it accepts: gamma, prior_weight, "
                "n_EI_candidates, random_state)",
            ),
            (
                "multivariate-tpe",
                {"random_state": str(2**32)},
                "random_state must be at most 4294967295 (numpy's largest seed), got 4294967296",
            ),
            ("cmaes", {"restart_strategy": "lrpop"}, "restart_strategy must be one of"),
            ("sobol", {"random_state": "1"}, "random_state is not a setting of sobol"),
        ],
    )
    def test_refused(self, algorithm, settings, expected):
        [message] = _findings(_with(algorithm, settings))
        assert message.startswith("spec.algorithm.algorithmSettings[0]: " + expected), message

    def test_pbt_resample_probability_fails_the_service(self):
        """Katib lists it, but its pbt service compares the text with a number and raises."""
        message = algorithms.SETTINGS["pbt"]["resample_probability"]("0.5")
        assert message.startswith("cannot be set: Katib's pbt service fails validating it")

    def test_field_names_as_an_experiment_spells_them(self):
        spec = _with("grid", {})
        spec["parameters"] = [
            {"name": "r", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "4"}}
        ]
        assert [
            "spec.algorithm.algorithmName: maxTrialCount 8 is more than the 4 points of the grid"
        ] == _findings(spec)


class TestHandWrittenExperiments:
    """hpo check FILE applies the same rules to a manifest, at the setting's line."""

    def test_random_with_gamma(self, tmp_path, monkeypatch, capsys):
        text = PYTORCHJOB_EXPERIMENT.replace(
            "    algorithmName: random\n",
            "    algorithmName: random\n    algorithmSettings:\n"
            '      - {name: gamma, value: "0.5"}\n',
        ).replace(
            "  parameters:\n",
            "  earlyStopping:\n    algorithmName: medianstop\n    algorithmSettings:\n"
            '      - {name: start_step, value: "0"}\n  parameters:\n',
        )
        manifest = tmp_path / "experiment.yaml"
        manifest.write_text(text)
        monkeypatch.chdir(tmp_path)
        assert 1 == main(["check", str(manifest)])
        errors = [e for e in capsys.readouterr().err.splitlines() if ": error: " in e]
        assert [
            f"{manifest}:17:9: error: spec.algorithm.algorithmSettings[0]: gamma is not a "
            "setting of random (it accepts: random_state)",
            f"{manifest}:21:9: error: spec.earlyStopping.algorithmSettings[0]: start_step must "
            "be >= 1, got 0",
        ] == errors

    def test_architecture_search_is_not_judged_by_these_rules(self):
        spec = _with("enas", {"controller_hidden_size": "64"})
        assert [] == _findings(spec)
