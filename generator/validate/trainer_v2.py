"""Kubeflow Trainer v2 kinds: TrainJob and ClusterTrainingRuntime, against their own schemas.

The schemas come from the `kubeflow-trainer-api` package's models (the Trainer's generated API
types), made strict: a field the models do not have is an error, as kubectl's strict field
validation would make it. `hpo schemas export` writes the same schemas for kubeconform.
"""

from __future__ import annotations

import copy
from functools import cache

import jsonschema_rs

from generator.validate import Finding
from generator.validate.kube_schema import schema_message

API_VERSION = "trainer.kubeflow.org/v1alpha1"
TRAINER_CONTAINER = "node"  # the container of a torch runtime's "node" job that trains


def _one_of_wrapper(schema: dict) -> dict | None:
    """The generator models an OpenAPI oneOf (a Quantity: number or string; an IntOrString) as
    an object holding `actual_instance`; on the wire it is the value itself."""
    properties = schema.get("properties") or {}
    if "actual_instance" not in properties or "one_of_schemas" not in properties:
        return None
    branches = properties["actual_instance"].get("anyOf") or []
    return {
        "title": schema.get("title"),
        "anyOf": [branch for branch in branches if branch != {"type": "null"}],
    }


def _strict(schema: object) -> object:
    """Every object schema that lists its properties forbids any other, and an optional field is
    its type alone (the models' `X | None` would make every error a vague anyOf failure)."""
    if isinstance(schema, dict):
        wrapped = _one_of_wrapper(schema)
        if wrapped is not None:
            return wrapped
        branches = schema.get("anyOf")
        if isinstance(branches, list):
            typed = [b for b in branches if b != {"type": "null"}]
            if len(typed) == 1 and len(typed) < len(branches):
                rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
                return _strict({**rest, **typed[0]})
        strict = {key: _strict(value) for key, value in schema.items()}
        if isinstance(strict.get("properties"), dict) and "additionalProperties" not in strict:
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def schemas() -> dict[str, dict]:
    """kind -> strict JSON schema, from the models of the installed kubeflow-trainer-api."""
    from kubeflow_trainer_api.models import (
        TrainerV1alpha1ClusterTrainingRuntime,
        TrainerV1alpha1TrainJob,
    )

    built = {}
    for kind, model in (
        ("TrainJob", TrainerV1alpha1TrainJob),
        ("ClusterTrainingRuntime", TrainerV1alpha1ClusterTrainingRuntime),
    ):
        schema = copy.deepcopy(model.model_json_schema(by_alias=True))
        schema = _strict(schema)
        # The object's own apiVersion and kind, which the models leave free.
        schema["properties"]["apiVersion"] = {"const": API_VERSION}
        schema["properties"]["kind"] = {"const": kind}
        schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "spec"})
        built[kind] = schema
    return built


@cache
def _validator(kind: str):
    return jsonschema_rs.validator_for(schemas()[kind])


def validate_trainer_v2(obj: dict, base_path: tuple = ()) -> list[Finding]:
    """Schema findings for a TrainJob or ClusterTrainingRuntime, then what a trial needs."""
    kind = obj.get("kind")
    try:
        validator = _validator(kind)
    except ImportError:
        return [
            Finding(
                base_path,
                "kubeflow-trainer-api is not installed; cannot check a Trainer v2 object "
                "(pip install '.[generator]')",
                "policy",
            )
        ]
    findings = [
        Finding(base_path + tuple(error.instance_path), schema_message(error.message))
        for error in validator.iter_errors(obj)
    ]
    if findings or kind != "TrainJob":
        return findings
    trainer = (obj.get("spec") or {}).get("trainer") or {}
    if not trainer.get("image"):
        findings.append(
            Finding(base_path + ("spec", "trainer", "image"), "a trial's TrainJob names its image")
        )
    return findings
