"""What the results need from the validated definition: its search space and its inputs.

The definition arrives checked, as a `generator.definition.DefinitionRecord`: in memory from the
local runner, and as JSON from the ConfigMap rendered beside the results Job. Nothing here reads
experiment.yaml; the URIs are the spec's own (`source_uri`), the ones the download Job fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.spec import CategoricalSearch, DiscreteSearch, ExperimentSpec
from results.model import Provenance, Scalar


@dataclass(frozen=True)
class SearchSpace:
    kinds: dict[str, str] = field(default_factory=dict)  # name -> double|int|categorical|discrete
    values: dict[str, list[Scalar]] = field(default_factory=dict)  # listed values, typed


def search_space(spec: ExperimentSpec) -> SearchSpace:
    space = SearchSpace()
    for name, (_, searched) in spec.search_spaces().items():
        space.kinds[name] = searched.search
        if isinstance(searched, CategoricalSearch | DiscreteSearch):
            space.values[name] = list(searched.values)
    return space


def provenance(spec: ExperimentSpec, *, storage_init_image: str | None = None) -> Provenance:
    model = spec.model_provider_parameters
    dataset = spec.dataset_provider_parameters
    return Provenance(
        model_uri=model.source_uri,
        model_revision=model.revision,
        dataset_uri=dataset.source_uri,
        dataset_revision=dataset.revision,
        dataset_split=dataset.split,
        storage_init_image=storage_init_image,
    )
