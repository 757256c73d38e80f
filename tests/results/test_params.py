"""Katib's string assignments typed back by the definition's search space."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

from results.errors import ParameterTypeError
from results.params import typed_parameters
from suggestion.space import Parameter


def typed_value(name: str, raw: str, kind: str, values=None):
    """One assignment typed by a one-parameter search space."""
    bounds = {"min": 0, "max": 1} if kind in ("double", "int") else {}
    parameter = Parameter(name, kind, values=tuple(values or ()), **bounds)
    return typed_parameters({name: raw}, {name: parameter})[name]


class TestRangeKinds:
    """double and int searches come back as float and int, whatever Katib's spelling."""

    def test_double_in_exponent_notation_is_a_float(self):
        assert 3.2e-05 == typed_value("learning_rate", "3.2e-05", "double")
        assert isinstance(typed_value("learning_rate", "0.00005", "double"), float)

    def test_int_is_an_int_not_a_float(self):
        value = typed_value("r", "16", "int")
        assert (16, int) == (value, type(value))

    def test_int_spelled_with_a_zero_fraction_is_still_an_int(self):
        assert 16 == typed_value("r", "16.0", "int")

    @pytest.mark.parametrize(
        ("raw", "kind", "message"),
        [
            ("fast", "double", "parameter lr: 'fast' is not a number (double)"),
            ("nan", "double", "parameter lr: 'nan' is not a number (double)"),
            ("16.5", "int", "parameter lr: '16.5' is not an integer (int)"),
            ("1", "grid", "parameter lr: unknown search kind 'grid'"),
        ],
    )
    def test_bad_values_name_the_parameter(self, raw, kind, message):
        with pytest.raises(ParameterTypeError) as caught:
            typed_value("lr", raw, kind)
        assert str(caught.value).startswith(message)


class TestListedKinds:
    """categorical and discrete values are the definition's own typed values."""

    def test_false_string_becomes_the_boolean_false(self):
        value = typed_value("use_rslora", "false", "categorical", [True, False])
        assert value is False

    def test_python_spelling_of_a_boolean_also_matches(self):
        assert typed_value("use_rslora", "True", "categorical", [True, False]) is True

    def test_discrete_integers_come_back_as_integers(self):
        value = typed_value("batch", "16", "discrete", [8, 16, 32])
        assert (16, int) == (value, type(value))

    def test_discrete_floats_match_numerically(self):
        assert 1e-05 == typed_value("lr", "0.00001", "discrete", [1e-05, 3e-05])

    def test_strings_stay_strings_even_when_they_look_like_numbers(self):
        assert "16" == typed_value("precision", "16", "categorical", ["16", "bf16"])

    def test_a_value_outside_the_list_is_an_error(self):
        with pytest.raises(ParameterTypeError) as caught:
            typed_value("optim", "sgd", "categorical", ["adamw_torch", "adafactor"])
        expected = (
            "parameter optim: 'sgd' is not one of the listed values 'adamw_torch', 'adafactor'"
        )
        assert expected == str(caught.value)

    def test_a_list_kind_without_values_is_an_error(self):
        with pytest.raises(ParameterTypeError, match="categorical search lists no values"):
            typed_value("optim", "sgd", "categorical", None)


class TestAssignments:
    """A whole assignment set is typed at once and must match the search space."""

    def test_mixed_assignments_are_typed_and_sorted_by_name(self):
        space = {
            "learning_rate": Parameter("learning_rate", "double", 1e-5, 1e-3),
            "r": Parameter("r", "int", 4, 32),
            "use_rslora": Parameter("use_rslora", "categorical", values=(True, False)),
        }
        typed = typed_parameters(
            {"use_rslora": "false", "r": "16", "learning_rate": "3.2e-05"}, space
        )
        assert {"learning_rate": 3.2e-05, "r": 16, "use_rslora": False} == typed
        assert ["learning_rate", "r", "use_rslora"] == list(typed)

    def test_a_parameter_missing_from_the_search_space_is_an_error(self):
        with pytest.raises(ParameterTypeError) as caught:
            typed_parameters({"dropout": "0.1"}, {"r": Parameter("r", "int", 4, 32)})
        assert "parameter dropout is not in the definition's search space (it has: r)" == str(
            caught.value
        )

    def test_hpo_ashas_rung_and_configuration_are_not_parameters(self):
        """The policy sets them; they are not part of what was searched."""
        typed = typed_parameters(
            {"r": "16", "hpo_rung": "2", "hpo_config": "7"}, {"r": Parameter("r", "int", 4, 32)}
        )
        assert {"r": 16} == typed
