"""`hpo schemas export DIR`: JSON schemas for the custom kinds, in kubeconform's layout.

kubeconform looks schemas up as `{{.ResourceKind}}{{.KindSuffix}}.json`, where the suffix is
`-<group>-<version>`, e.g. `experiment-kubeflow-v1beta1.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.validate.experiment_schema import EXPERIMENT_SCHEMA


def _pytorchjob_schema() -> dict:
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


SCHEMAS = {
    "experiment-kubeflow-v1beta1.json": EXPERIMENT_SCHEMA,
    "pytorchjob-kubeflow-v1.json": _pytorchjob_schema(),
}


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in SCHEMAS.items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written
