"""PyTorchJob trial templates through the kubeflow-training SDK's generated models.

The training operator's CRD has a schema, but nothing offline applies it. The SDK models know the
fields: deserialising and serialising again drops every field they do not know, so any
difference is an unknown or mistyped field.
"""

from __future__ import annotations

import json
from functools import cache

import jsonschema_rs

from generator.validate import Finding
from generator.validate.kube_schema import schema_message


def _schema() -> dict:
    """The PyTorchJob fields the trial templates use, strict where the SDK models are."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PyTorchJob (kubeflow.org/v1)",
        "type": "object",
        "required": ["apiVersion", "kind", "spec"],
        "properties": {
            "apiVersion": {"const": "kubeflow.org/v1"},
            "kind": {"const": "PyTorchJob"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["pytorchReplicaSpecs"],
                "properties": {
                    "nprocPerNode": {"type": "string"},
                    "elasticPolicy": {"type": "object"},
                    "runPolicy": {"type": "object"},
                    "pytorchReplicaSpecs": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["Master"],
                        "properties": {
                            role: {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "replicas": {"type": "integer", "minimum": 0},
                                    "restartPolicy": {
                                        "enum": ["Always", "OnFailure", "Never", "ExitCode"]
                                    },
                                    "template": {"type": "object"},
                                },
                            }
                            for role in ("Master", "Worker")
                        },
                    },
                },
            },
            "status": {"type": "object"},
        },
    }


PYTORCHJOB_SCHEMA = _schema()


@cache
def _schema_validator():
    return jsonschema_rs.validator_for(PYTORCHJOB_SCHEMA)


@cache
def _client():
    from kubeflow.training.api_client import ApiClient

    return ApiClient()


class _Response:
    def __init__(self, obj: dict):
        self.data = json.dumps(obj)


def validate_pytorchjob(obj: dict, base_path: tuple = ()) -> list[Finding]:
    shape = [
        Finding(base_path + tuple(error.instance_path), schema_message(error.message))
        for error in _schema_validator().iter_errors(obj)
    ]
    if shape:
        return shape  # the SDK models assume the shape; report it instead of crashing there
    try:
        client = _client()
    except ImportError:
        return [
            Finding(
                base_path,
                "kubeflow-training is not installed; cannot check PyTorchJob "
                "(pip install '.[sdk]')",
                "policy",
            )
        ]
    try:
        model = client.deserialize(_Response(obj), "KubeflowOrgV1PyTorchJob")
    except (ValueError, TypeError) as e:
        return [Finding(base_path, f"not a valid PyTorchJob: {e}")]
    round_trip = client.sanitize_for_serialization(model)
    findings: list[Finding] = []
    _compare(obj, round_trip, base_path, findings)
    specs = (obj.get("spec") or {}).get("pytorchReplicaSpecs") or {}
    if "Master" not in specs:
        findings.append(
            Finding(base_path + ("spec", "pytorchReplicaSpecs"), "a Master replica is required")
        )
    for role, replica in specs.items():
        containers = (((replica or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or []
        if not any(c.get("name") == "pytorch" for c in containers):
            findings.append(
                Finding(
                    base_path + ("spec", "pytorchReplicaSpecs", role),
                    "the training operator needs a container named 'pytorch'",
                )
            )
    return findings


def _compare(original, round_trip, path, findings) -> None:
    if isinstance(original, dict):
        round_trip = round_trip if isinstance(round_trip, dict) else {}
        for key, value in original.items():
            if key not in round_trip:
                findings.append(Finding(path + (key,), f"unknown field: {key}"))
            else:
                _compare(value, round_trip[key], path + (key,), findings)
    elif isinstance(original, list) and isinstance(round_trip, list):
        for i, (a, b) in enumerate(zip(original, round_trip, strict=False)):
            _compare(a, b, path + (i,), findings)
