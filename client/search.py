"""Search spaces in Python: helpers shaped like `kubeflow.katib.search`, and readers of any form.

`double`, `int` and `categorical` take the same arguments as Katib's, so a notebook can use
either. Katib's return `V1beta1ParameterSpec` objects with bounds as strings, and 0.19's
`categorical(list)` puts the list into `feasible_space.distribution` instead of `.list`;
`as_search_space` reads both kinds (and plain definition dicts) into the definition's models.
"""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import ValidationError

from generator.spec import CategoricalSearch, DiscreteSearch, DoubleSearch, IntSearch, is_search
from suggestion.space import KINDS, Parameter, katib_number

SearchModel = DoubleSearch | IntSearch | CategoricalSearch | DiscreteSearch
_MODELS = {
    "double": DoubleSearch,
    "int": IntSearch,
    "categorical": CategoricalSearch,
    "discrete": DiscreteSearch,
}


class SearchSpaceError(ValueError):
    """A search value that cannot be written as a definition search space."""


def _space(kind: str, **fields: Any) -> SearchModel:
    given = {key: value for key, value in fields.items() if value is not None}
    try:
        return _MODELS[kind].model_validate({"search": kind, **given})
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or kind}: {err['msg']}" for err in e.errors()
        )
        raise SearchSpaceError(f"invalid {kind} search space {given}: {problems}") from None


def double(min: float, max: float, step: float | None = None, distribution: str | None = None):
    """Sample a float between `min` and `max` (Katib's `search.double`)."""
    return _space("double", min=min, max=max, step=step, distribution=distribution)


def int(
    min: builtins.int,
    max: builtins.int,
    step: builtins.int | None = None,
    distribution: str | None = None,
):
    """Sample an integer between `min` and `max` (Katib's `search.int`)."""
    return _space("int", min=min, max=max, step=step, distribution=distribution)


def categorical(list: builtins.list):
    """Sample one of the values in `list` (Katib's `search.categorical`)."""
    return _space("categorical", values=builtins.list(list))


def discrete(list: builtins.list):
    """Sample one of the numbers in `list` (Katib's `discrete` parameter type)."""
    return _space("discrete", values=builtins.list(list))


def is_katib_parameter(value: Any) -> bool:
    """A `V1beta1ParameterSpec` (checked by shape, so the Katib SDK need not be installed)."""
    return hasattr(value, "parameter_type") and hasattr(value, "feasible_space")


def is_search_value(value: Any) -> bool:
    return is_search(value) or is_katib_parameter(value) or _is_search_dict(value)


def _is_search_dict(value: Any) -> bool:
    return isinstance(value, dict) and "search" in value


def _discrete_value(text: Any) -> builtins.int | float:
    number = katib_number(str(text), "int")
    if number is None:
        number = katib_number(str(text), "double")
    if number is None:
        raise SearchSpaceError(f"'{text}' is not a number for a discrete search space")
    return number


def _from_katib(parameter: Any) -> SearchModel:
    kind = parameter.parameter_type
    space = parameter.feasible_space
    values = space.list
    # Katib 0.19's categorical(list) passes the list positionally, into `distribution`.
    if values is None and isinstance(space.distribution, builtins.list):
        values = space.distribution
    distribution = space.distribution if isinstance(space.distribution, str) else None
    if kind not in KINDS:
        raise SearchSpaceError(f"unknown Katib parameter type '{kind}'")
    feasible = {"min": space.min, "max": space.max, "step": space.step, "list": values}
    try:
        read = Parameter.from_katib(
            {"name": parameter.name or kind, "parameterType": kind, "feasibleSpace": feasible}
        )
    except ValueError as e:
        raise SearchSpaceError(str(e)) from None
    if kind == "discrete":
        return _space(kind, values=[_discrete_value(v) for v in read.values])
    if kind == "categorical":
        return _space(kind, values=builtins.list(read.values))
    return _space(kind, min=read.min, max=read.max, step=read.step, distribution=distribution)


def as_search_space(value: Any) -> SearchModel:
    """The definition model of any search value: ours, Katib's, or a definition dict."""
    if is_search(value):
        return value
    if is_katib_parameter(value):
        return _from_katib(value)
    if _is_search_dict(value):
        fields = {k: v for k, v in value.items() if k != "search"}
        if value["search"] not in _MODELS:
            raise SearchSpaceError(
                f"unknown search type '{value['search']}'; use one of {', '.join(_MODELS)}"
            )
        return _space(value["search"], **fields)
    raise SearchSpaceError(f"{value!r} is not a search space")


def search_dict(space: SearchModel) -> dict[str, Any]:
    """The definition form: `{search: ..., min, max}` without defaulted keys."""
    return space.model_dump(exclude_defaults=True)  # `search` has no default: always kept
