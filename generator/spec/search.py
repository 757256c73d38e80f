"""Search spaces: `{search: double|int|categorical|discrete, ...}` wherever a value may stand."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictInt, Tag

from generator.spec.base import FiniteFloat, Scalar, Strict

Distribution = Literal["uniform", "logUniform", "normal", "logNormal"]


class DoubleSearch(Strict):
    search: Literal["double"]
    min: FiniteFloat | StrictInt
    max: FiniteFloat | StrictInt
    step: FiniteFloat | StrictInt | None = None
    distribution: Distribution = "uniform"


class IntSearch(Strict):
    search: Literal["int"]
    min: StrictInt
    max: StrictInt
    step: StrictInt | None = None
    distribution: Distribution = "uniform"


class CategoricalSearch(Strict):
    search: Literal["categorical"]
    values: list[Scalar] = Field(min_length=1)


class DiscreteSearch(Strict):
    search: Literal["discrete"]
    values: list[StrictInt | FiniteFloat] = Field(min_length=1)


SearchSpace = Annotated[
    DoubleSearch | IntSearch | CategoricalSearch | DiscreteSearch,
    Field(discriminator="search"),
]


def _search_or_fixed(value: Any) -> str:
    # Tag names must not collide with definition keys: error locations are mapped back to YAML.
    # Serialising hands over the models themselves, loading hands over mappings.
    if is_search(value) or isinstance(value, dict) and "search" in value:
        return "search-space"
    return "fixed-value"


# A TrainingArguments or LoraConfig value: fixed, or a search space Katib samples.
TunableValue = Annotated[
    Annotated[SearchSpace, Tag("search-space")] | Annotated[Any, Tag("fixed-value")],
    Discriminator(_search_or_fixed),
]


def is_search(value: Any) -> bool:
    return isinstance(value, DoubleSearch | IntSearch | CategoricalSearch | DiscreteSearch)
