"""What the results need from the validated definition: its search space and its inputs.

The definition arrives checked, as a `generator.loading.definition.DefinitionRecord`: in memory
from the local runner, and as JSON from the ConfigMap rendered beside the results Job. Nothing
here reads experiment.yaml; the URIs are the spec's own (`source_uri`), the ones the download Job
fetched. What they resolved to (a commit, ETags, a content digest) comes from the download's
completion markers, found in the cache the way the generator names the folders in the trial command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from generator.checks.asha import plan_of
from generator.rendering.manifest_params import dataset_source, model_source
from generator.spec import ExperimentSpec
from results.model import Fetched, Objective, Provenance, WarmStartRecord
from storage_init.cache import Source, cache_folder, verified
from storage_init.exits import HpoError
from suggestion.asha import Plan
from suggestion.history import warm_start_of
from suggestion.space import Parameter

NO_CACHE = "the download's cache was not given to the results writer (--cache-dir, HPO_CACHE_DIR)"


# The definition's search parameters by name: what types Katib's string values.
SearchSpace = Mapping[str, Parameter]


def search_space(spec: ExperimentSpec) -> SearchSpace:
    return {p.name: p for p in spec.search_parameters()}


def provenance(
    spec: ExperimentSpec,
    *,
    storage_init_image: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Provenance:
    """The inputs as the definition states them and, from the markers under `cache_dir`, what
    the download fetched for them."""
    model = spec.model_provider_parameters
    dataset = spec.dataset_provider_parameters
    return Provenance(
        model_uri=model.source_uri,
        model_revision=model.revision,
        dataset_uri=dataset.source_uri,
        dataset_revision=dataset.revision,
        dataset_split=dataset.split,
        storage_init_image=storage_init_image,
        model_fetched=fetched(cache_dir, "model", model_source(spec)),
        dataset_fetched=fetched(cache_dir, "dataset", dataset_source(spec)),
    )


def fetched(cache_dir: str | os.PathLike[str] | None, kind: str, source: Source) -> Fetched:
    """The identity and fetch time in the marker of the copy the reference folder points at;
    what went wrong instead when it cannot be read (the results are written all the same)."""
    if cache_dir is None:
        return Fetched(unread=NO_CACHE)
    folder = cache_folder(Path(cache_dir), kind, source)
    try:
        _, marker = verified(folder)
    except (HpoError, OSError) as error:
        return Fetched(unread=str(error))
    resolved, fetched_at = marker.get("resolved_revision"), marker.get("fetched_at")
    return Fetched(
        resolved=resolved if isinstance(resolved, str) else None,
        fetched_at=fetched_at if isinstance(fetched_at, str) else None,
    )


def objectives(spec: ExperimentSpec) -> tuple[Objective, ...]:
    """Every objective, the Experiment's own first."""
    return tuple(spec.all_objectives)


def asha_plan(spec: ExperimentSpec) -> Plan | None:
    """The rungs of an hpo-asha experiment, its settings' defaults filled in as the suggestion
    service fills them; None for any other algorithm. What makes the results rung-aware: each
    trial placed in its rung, the best trial taken from the top one, the report's paths."""
    return plan_of(spec)


def warm_start_record(spec: ExperimentSpec, settings: dict[str, str]) -> WarmStartRecord | None:
    """What the search was seeded with: the definition's sources, and the trials the generator
    rendered into the algorithm `settings` (those that fit the search space)."""
    if spec.warm_start is None:
        return None
    return WarmStartRecord(tuple(spec.warm_start.from_), len(warm_start_of(settings)))
