"""A strict JSON schema for Katib's v1beta1 Experiment (Katib's CRD ships none).

Field names follow Katib's Go types (pkg/apis/controller/experiments/v1beta1). Unknown fields are
errors: Katib's mutating webhook silently drops them, so a misspelt field would vanish on apply.
`hpo schemas export` writes this schema in kubeconform's layout.
"""

from __future__ import annotations

from functools import cache

import jsonschema_rs

from generator.validate import Finding
from generator.validate.kube_schema import schema_message


def _obj(properties: dict, required: tuple = ()) -> dict:
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STRING = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
SETTINGS = {"type": "array", "items": _obj({"name": STRING, "value": STRING}, ("name",))}
ANY_OBJECT = {"type": "object"}

FEASIBLE_SPACE = _obj(
    {
        "min": STRING,
        "max": STRING,
        "step": STRING,
        "list": {"type": "array", "items": STRING},
        "distribution": {"enum": ["uniform", "logUniform", "normal", "logNormal"]},
    }
)
PARAMETER = _obj(
    {
        "name": STRING,
        "parameterType": {"enum": ["double", "int", "categorical", "discrete", "unknown"]},
        "feasibleSpace": FEASIBLE_SPACE,
    },
    ("name", "parameterType", "feasibleSpace"),
)

FILE_SYSTEM_PATH = _obj(
    {"path": STRING, "kind": {"enum": ["File", "Directory"]}, "format": {"enum": ["TEXT", "JSON"]}}
)
METRICS_COLLECTOR = _obj(
    {
        "collector": _obj(
            {
                "kind": {
                    "enum": [
                        "StdOut",
                        "File",
                        "TensorFlowEvent",
                        "PrometheusMetric",
                        "Custom",
                        "Push",
                    ]
                },
                "customCollector": ANY_OBJECT,
            }
        ),
        "source": _obj(
            {
                "fileSystemPath": FILE_SYSTEM_PATH,
                "filter": _obj({"metricsFormat": {"type": "array", "items": STRING}}),
                "httpGet": ANY_OBJECT,
            }
        ),
    }
)

TRIAL_TEMPLATE = _obj(
    {
        "retain": BOOL,
        "primaryContainerName": STRING,
        "primaryPodLabels": STRING_MAP,
        "successCondition": STRING,
        "failureCondition": STRING,
        "trialParameters": {
            "type": "array",
            "items": _obj(
                {"name": STRING, "description": STRING, "reference": STRING}, ("name", "reference")
            ),
        },
        "trialSpec": ANY_OBJECT,  # validated by its own kind's schema
        "configMap": _obj(
            {"configMapName": STRING, "configMapNamespace": STRING, "templatePath": STRING}
        ),
    }
)

EXPERIMENT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Katib Experiment (kubeflow.org/v1beta1)",
    **_obj(
        {
            "apiVersion": {"const": "kubeflow.org/v1beta1"},
            "kind": {"const": "Experiment"},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": STRING,
                    "namespace": STRING,
                    "labels": STRING_MAP,
                    "annotations": STRING_MAP,
                },
            },
            "spec": _obj(
                {
                    "parameters": {"type": "array", "items": PARAMETER},
                    "objective": _obj(
                        {
                            "type": {"enum": ["minimize", "maximize"]},
                            "goal": {"type": "number"},
                            "objectiveMetricName": STRING,
                            "additionalMetricNames": {"type": "array", "items": STRING},
                            "metricStrategies": {
                                "type": "array",
                                "items": _obj(
                                    {"name": STRING, "value": {"enum": ["min", "max", "latest"]}},
                                    ("name", "value"),
                                ),
                            },
                        }
                    ),
                    "algorithm": _obj({"algorithmName": STRING, "algorithmSettings": SETTINGS}),
                    "earlyStopping": _obj({"algorithmName": STRING, "algorithmSettings": SETTINGS}),
                    "trialTemplate": TRIAL_TEMPLATE,
                    "parallelTrialCount": INT,
                    "maxTrialCount": INT,
                    "maxFailedTrialCount": INT,
                    "metricsCollectorSpec": METRICS_COLLECTOR,
                    "nasConfig": ANY_OBJECT,
                    "resumePolicy": {"enum": ["", "Never", "LongRunning", "FromVolume"]},
                }
            ),
            "status": ANY_OBJECT,
        },
        ("apiVersion", "kind", "metadata", "spec"),
    ),
}


@cache
def _validator():
    return jsonschema_rs.validator_for(EXPERIMENT_SCHEMA)


def validate_experiment_schema(obj: dict) -> list[Finding]:
    findings = [
        Finding(tuple(error.instance_path), schema_message(error.message))
        for error in _validator().iter_errors(obj)
    ]
    return sorted(findings, key=lambda f: tuple(map(str, f.path)))
