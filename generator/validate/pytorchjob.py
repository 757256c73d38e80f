"""PyTorchJob (kubeflow.org/v1): the training operator's CRD schema, and its webhook's rules.

The schema is written here from the operator's API types (PyTorchJobSpec, ReplicaSpec, RunPolicy,
SchedulingPolicy, ElasticPolicy, JobStatus), strict on unknown fields as kubectl's strict field
validation is. Its pod templates, object metadata and autoscaling metrics are Kubernetes' own
types: their definitions are taken from kubernetes-validate's strict schemas (the same ones
`kube_schema` validates core kinds with) and embedded, so the schema stands alone for
`hpo schemas export` and kubeconform. No SDK is involved: the kubeflow-training models broke with
each kubernetes client release and refused valid jobs that set no runPolicy.

After the schema, the operator's validating webhook (v1.9): replica types Master and Worker,
exactly one Master replica, a container named `pytorch` with an image in each replica, a Worker
for an elastic policy, not both elasticPolicy.nProcPerNode and nprocPerNode.
"""

from __future__ import annotations

from functools import cache

import jsonschema_rs

from generator.validate import Finding
from generator.validate.kube_schema import embedded_definitions, schema_message
from generator.validate.kube_schema import ref as _ref
from generator.validate.kube_schema import strict_object as _obj

API_VERSION = "kubeflow.org/v1"
CONTAINER = "pytorch"  # the container the operator configures (MASTER_ADDR, ports)
ROLES = ("Master", "Worker")

_K8S = "io.k8s.api.core.v1.PodTemplateSpec", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_ROOTS = (
    *_K8S,
    "io.k8s.api.autoscaling.v2.MetricSpec",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.api.resource.Quantity",
)


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
INT32 = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
INT64 = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
TIME = _ref("io.k8s.apimachinery.pkg.apis.meta.v1.Time")

REPLICA_SPEC = _obj(
    {
        "replicas": INT32,
        "template": _ref("io.k8s.api.core.v1.PodTemplateSpec"),
        "restartPolicy": {"enum": ["Always", "OnFailure", "Never", "ExitCode"]},
    }
)
RUN_POLICY = _obj(
    {
        "cleanPodPolicy": {"enum": ["All", "Running", "None"]},
        "ttlSecondsAfterFinished": INT32,
        "activeDeadlineSeconds": INT64,
        "backoffLimit": INT32,
        "schedulingPolicy": _obj(
            {
                "minAvailable": INT32,
                "queue": STRING,
                "minResources": {
                    "type": "object",
                    "additionalProperties": _ref("io.k8s.apimachinery.pkg.api.resource.Quantity"),
                },
                "priorityClass": STRING,
                "scheduleTimeoutSeconds": INT32,
            }
        ),
        "suspend": BOOLEAN,
        "managedBy": STRING,
    }
)
ELASTIC_POLICY = _obj(
    {
        "minReplicas": INT32,
        "maxReplicas": INT32,
        "rdzvBackend": {"enum": ["c10d", "etcd", "etcd-v2"]},
        "rdzvPort": INT32,
        "rdzvHost": STRING,
        "rdzvId": STRING,
        "rdzvConf": {"type": "array", "items": _obj({"key": STRING, "value": STRING})},
        "standalone": BOOLEAN,
        "nProcPerNode": INT32,
        "maxRestarts": INT32,
        "metrics": {"type": "array", "items": _ref("io.k8s.api.autoscaling.v2.MetricSpec")},
    }
)
JOB_STATUS = _obj(
    {
        "conditions": {
            "type": "array",
            "items": _obj(
                {
                    "type": STRING,
                    "status": STRING,
                    "reason": STRING,
                    "message": STRING,
                    "lastUpdateTime": TIME,
                    "lastTransitionTime": TIME,
                },
                ("type", "status"),
            ),
        },
        "replicaStatuses": {
            "type": "object",
            "additionalProperties": _obj(
                {
                    "active": INT32,
                    "succeeded": INT32,
                    "failed": INT32,
                    "labelSelector": _ref("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"),
                    "selector": STRING,
                }
            ),
        },
        "startTime": TIME,
        "completionTime": TIME,
        "lastReconcileTime": TIME,
    }
)


@cache
def pytorchjob_schema() -> dict:
    """The PyTorchJob schema, standing alone (its Kubernetes types under $defs)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "PyTorchJob (kubeflow.org/v1)",
        **_obj(
            {
                "apiVersion": {"const": API_VERSION},
                "kind": {"const": "PyTorchJob"},
                "metadata": _ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
                "spec": _obj(
                    {
                        "runPolicy": RUN_POLICY,
                        "elasticPolicy": ELASTIC_POLICY,
                        "pytorchReplicaSpecs": _obj({role: REPLICA_SPEC for role in ROLES}),
                        "nprocPerNode": STRING,
                    },
                    ("pytorchReplicaSpecs",),
                ),
                "status": JOB_STATUS,
            },
            ("apiVersion", "kind", "spec"),
        ),
        "$defs": embedded_definitions(_ROOTS),
    }


@cache
def _validator():
    return jsonschema_rs.validator_for(pytorchjob_schema())


def validate_pytorchjob(obj: dict, base_path: tuple = ()) -> list[Finding]:
    """Schema findings first; the webhook's rules only on a job of the right shape."""
    findings = [
        Finding(base_path + tuple(error.instance_path), schema_message(error.message))
        for error in _validator().iter_errors(obj)
    ]
    if findings:
        return sorted(findings, key=lambda f: tuple(map(str, f.path)))
    return _webhook(obj["spec"], base_path + ("spec",))


def _webhook(spec: dict, path: tuple) -> list[Finding]:
    findings: list[Finding] = []
    replicas_path = path + ("pytorchReplicaSpecs",)
    replica_specs = spec["pytorchReplicaSpecs"]
    elastic = spec.get("elasticPolicy")
    if elastic is None and "Master" not in replica_specs:
        findings.append(Finding(replicas_path, "a Master replica is required"))
    if elastic is not None and "Worker" not in replica_specs:
        findings.append(
            Finding(replicas_path, "a Worker replica is required with an elasticPolicy")
        )
    if elastic is not None and "nProcPerNode" in elastic and "nprocPerNode" in spec:
        findings.append(
            Finding(
                path + ("elasticPolicy", "nProcPerNode"),
                "elasticPolicy.nProcPerNode must not be used with nprocPerNode (it is deprecated)",
            )
        )
    for role, replica in replica_specs.items():
        role_path = replicas_path + (role,)
        count = replica.get("replicas")
        if role == "Master" and count != 1:
            findings.append(Finding(role_path + ("replicas",), "Master replicas must be 1"))
        elif count is not None and count < 1:
            findings.append(Finding(role_path + ("replicas",), f"{role} replicas must be >= 1"))
        containers_path = role_path + ("template", "spec", "containers")
        containers = ((replica.get("template") or {}).get("spec") or {}).get("containers") or []
        containers = [c if isinstance(c, dict) else {} for c in containers]
        for i, container in enumerate(containers):
            if not container.get("image"):
                findings.append(Finding(containers_path + (i, "image"), "image is required"))
        if not any(c.get("name") == CONTAINER for c in containers):
            findings.append(
                Finding(
                    containers_path,
                    f"the training operator needs a container named '{CONTAINER}'",
                )
            )
    return findings
