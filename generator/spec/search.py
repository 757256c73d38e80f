"""Search spaces: `{search: double|int|categorical|discrete, ...}` wherever a value may stand.

These models are the definition's syntax; `parameter(name)` turns each into the one search
parameter every later part uses (`suggestion.space.Parameter`): the rendered Experiment, the
checks of the algorithms, warm start and the results.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictInt, Tag

from generator.spec.base import FiniteFloat, Scalar, Strict
from suggestion.space import Parameter

Distribution = Literal["uniform", "logUniform", "normal", "logNormal"]


class _Range(Strict):
    def parameter(self, name: str) -> Parameter:
        """This space as the search parameter named `name`."""
        return Parameter(name, self.search, self.min, self.max, self.step, self.distribution)


class _Listed(Strict):
    def parameter(self, name: str) -> Parameter:
        """This space as the search parameter named `name`."""
        return Parameter(name, self.search, values=tuple(self.values))


class DoubleSearch(_Range):
    search: Literal["double"]
    min: FiniteFloat | StrictInt
    max: FiniteFloat | StrictInt
    step: FiniteFloat | StrictInt | None = None
    distribution: Distribution = "uniform"


class IntSearch(_Range):
    search: Literal["int"]
    min: StrictInt
    max: StrictInt
    step: StrictInt | None = None
    distribution: Distribution = "uniform"


class CategoricalSearch(_Listed):
    search: Literal["categorical"]
    values: list[Scalar] = Field(min_length=1)


class DiscreteSearch(_Listed):
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
