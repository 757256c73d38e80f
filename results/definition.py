"""The few facts the results job needs from experiment.yaml: search space and provenance.

The definition was validated by `hpo check` before it was merged, so this reads it leniently:
only the keys it needs, with a one-line error when even those are not there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from results.errors import DefinitionReadError
from results.model import Provenance, Scalar

# Where search spaces may stand in a definition (TrainingArguments and LoraConfig fields).
SEARCH_SECTIONS = ("training_parameters", "lora_config")


@dataclass(frozen=True)
class SearchSpace:
    kinds: dict[str, str] = field(default_factory=dict)  # name -> double|int|categorical|discrete
    values: dict[str, list[Scalar]] = field(default_factory=dict)  # listed values, typed


def parse_definition(text: str | bytes, where: str) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise DefinitionReadError(f"{where}: not valid YAML: {str(e).splitlines()[0]}") from e
    if not isinstance(document, Mapping):
        raise DefinitionReadError(f"{where}: expected a mapping at the top level")
    return document


def search_space(definition: Mapping[str, Any], where: str) -> SearchSpace:
    trainer = definition.get("trainer_parameters") or {}
    space = SearchSpace()
    for section in SEARCH_SECTIONS:
        for name, value in (trainer.get(section) or {}).items():
            if not (isinstance(value, Mapping) and "search" in value):
                continue
            if name in space.kinds:
                raise DefinitionReadError(
                    f"{where}: {name} is searched in more than one section; Katib cannot tell them "
                    "apart"
                )
            space.kinds[name] = str(value["search"])
            if "values" in value:
                space.values[name] = list(value["values"])
    return space


def _dataset_uri(dataset: Mapping[str, Any]) -> str | None:
    if dataset.get("bucket_name"):
        return f"s3://{dataset['bucket_name']}/{dataset.get('file_key') or ''}".rstrip("/")
    repo_id = dataset.get("repo_id")
    if not repo_id:
        return None
    return repo_id if str(repo_id).startswith(("/", ".")) else f"hf://{repo_id}"


def provenance(definition: Mapping[str, Any], *, storage_init_image: str | None) -> Provenance:
    model = definition.get("model_provider_parameters") or {}
    dataset = definition.get("dataset_provider_parameters") or {}
    return Provenance(
        model_uri=model.get("model_uri"),
        model_revision=model.get("revision"),
        dataset_uri=_dataset_uri(dataset),
        dataset_revision=dataset.get("revision"),
        dataset_split=dataset.get("split"),
        storage_init_image=storage_init_image,
    )
