"""`objectives` (several at once) and `warm_start` (from earlier experiments): the two keys
that need the project's own suggestion service (`algorithm_name: hpo-...`)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictStr

from generator.spec.base import Strict


class ObjectiveSpec(Strict):
    """One of several objectives: a metric the trainer reports, and which way is better."""

    metric: StrictStr
    type: Literal["minimize", "maximize"]


class WarmStart(Strict):
    """`warm_start: {from: [experiments/<earlier>, ...]}`: seed the search with the trials those
    experiments' results.yaml records."""

    # `from` is a Python keyword: the field is `from_`, read and written as `from`.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    from_: list[StrictStr] = Field(alias="from", min_length=1)
