"""One search-parameter model and one string form: values to Katib's strings and back.

The generator renders `Parameter.katib()`, the service and the local runner read it back with
`Parameter.from_katib`, and the results type Katib's strings with `Parameter.typed`: each round
trip must give back what went in.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import grpc
import numpy as np
import pytest
from kubeflow.katib import katib_api_pb2 as api

from generator.spec import CategoricalSearch, DiscreteSearch, DoubleSearch, IntSearch
from suggestion.space import Parameter, katib_text, unsupported
from tests.suggestion.conftest import experiment_message, render


class TestKatibText:
    """Values are written the way Katib and the trainer read them back."""

    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (3e-05, "3e-05"),
            (0.5, "0.5"),
            (3.0, "3.0"),
            (1e20, "1e+20"),
            (16, "16"),
            (2**63, "9223372036854775808"),
            (True, "true"),
            (False, "false"),
            ("adamw_torch", "adamw_torch"),
            (np.float64(0.25), "0.25"),
            (np.int64(8), "8"),
        ],
    )
    def test_spelling(self, value, text):
        assert text == katib_text(value)

    @pytest.mark.parametrize("value", [1e-5, 2.5e-4, 0.1, 1 / 3, 3.0, 123456.789, 1e300])
    def test_a_double_reads_back_to_the_same_float(self, value):
        parameter = Parameter("x", "double", 0.0, 1e301)
        assert value == parameter.typed(katib_text(value))

    def test_an_int_reads_back_exactly_past_a_floats_precision(self):
        parameter = Parameter("x", "int", 0, 2**64)
        assert 2**63 + 1 == parameter.typed(katib_text(2**63 + 1))

    @pytest.mark.parametrize(
        "values", [(True, False), (8, 16, 32), (1e-05, 3e-05), ("16", "bf16"), (1, 2.5)]
    )
    def test_a_listed_value_reads_back_as_itself(self, values):
        parameter = Parameter("x", "categorical", values=values)
        for value in values:
            back = parameter.typed(katib_text(value))
            assert (value, type(value)) == (back, type(back))


class TestExperimentEntry:
    """A definition's search space, rendered into an Experiment and read back from it."""

    @pytest.mark.parametrize(
        "space",
        [
            DoubleSearch(search="double", min=1e-5, max=5e-5, distribution="logUniform"),
            DoubleSearch(search="double", min=0, max=1, step=0.1),
            IntSearch(search="int", min=8, max=32, step=8),
        ],
    )
    def test_a_range_round_trips(self, space):
        parameter = space.parameter("x")
        assert parameter == Parameter.from_katib(parameter.katib())

    def test_listed_values_come_back_as_katibs_strings(self):
        parameter = CategoricalSearch(search="categorical", values=[True, 8, "x"]).parameter("c")
        read = Parameter.from_katib(parameter.katib())
        assert ("true", "8", "x") == read.values
        assert parameter.choices() == read.choices()
        discrete = DiscreteSearch(search="discrete", values=[1, 2.5]).parameter("d")
        assert {"list": ["1", "2.5"], "distribution": "uniform"} == discrete.katib()[
            "feasibleSpace"
        ]

    def test_the_rendered_form(self):
        parameter = DoubleSearch(search="double", min=1e-5, max=5e-5, step=1e-5).parameter("lr")
        assert {
            "name": "lr",
            "parameterType": "double",
            "feasibleSpace": {
                "min": "1e-05",
                "max": "5e-05",
                "distribution": "uniform",
                "step": "1e-05",
            },
        } == parameter.katib()

    def test_katib_may_write_an_int_bound_as_a_float(self):
        entry = {"name": "r", "parameterType": "int", "feasibleSpace": {"min": "8.0", "max": "32"}}
        assert (8, 32) == (Parameter.from_katib(entry).min, Parameter.from_katib(entry).max)

    @pytest.mark.parametrize(
        ("kind", "text", "message"),
        [
            ("double", "fast", "parameter x: feasibleSpace.min 'fast' is no double"),
            ("double", "inf", "parameter x: feasibleSpace.min 'inf' is no double"),
            ("int", "1.5", "parameter x: feasibleSpace.min '1.5' is no int"),
        ],
    )
    def test_a_bound_that_is_no_number_is_named(self, kind, text, message):
        entry = {"name": "x", "parameterType": kind, "feasibleSpace": {"min": text, "max": "2"}}
        with pytest.raises(ValueError) as caught:
            Parameter.from_katib(entry)
        assert message == str(caught.value)

    def test_bounds_are_numbers(self):
        with pytest.raises(TypeError, match="bounds must be numbers"):
            Parameter("x", "double", "0.1", "0.2")

    def test_an_unknown_type_cannot_be_sampled(self):
        entry = {"name": "x", "parameterType": "unknown", "feasibleSpace": {}}
        assert ["parameter x: unknown parameter type unknown"] == unsupported(
            [Parameter.from_katib(entry)]
        )


class TestService:
    """The service reads an Experiment's parameters with the same model, and refuses one it
    cannot read with the parameter's name, before Katib creates the Suggestion."""

    def test_a_bound_that_is_no_number(self, service, repository):
        experiment = experiment_message(render(repository)[0])
        experiment.spec.parameter_specs.parameters[0].feasible_space.min = "fast"
        with pytest.raises(grpc.RpcError) as raised:
            service.ValidateAlgorithmSettings(
                api.ValidateAlgorithmSettingsRequest(experiment=experiment)
            )
        assert grpc.StatusCode.INVALID_ARGUMENT == raised.value.code()
        assert "parameter learning_rate: feasibleSpace.min 'fast' is no double" == (
            raised.value.details()
        )
