"""Katib's mutating Experiment webhook, offline: the defaults it fills in.

`webhook_defaults` stores an Experiment as the webhook would; `drift_findings` reports every value
the webhook would add, which Argo CD would otherwise show as a permanent diff. The rendered
objects write them all out.
"""

from __future__ import annotations

import json

from generator.spec import DEFAULT_PARALLEL_TRIAL_COUNT
from generator.validate import Finding

OPERATOR_KINDS = ("TFJob", "PyTorchJob", "XGBoostJob", "MPIJob")
CONDITIONS = {
    "Job": ('status.conditions.#(type=="Complete")#|#(status=="True")#', None),
    "TrainJob": (
        'status.conditions.#(type=="Complete")#|#(status=="True")#',
        {
            "jobset.sigs.k8s.io/replicatedjob-name": "node",
            "batch.kubernetes.io/job-completion-index": "0",
        },
    ),
    **{
        kind: (
            'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
            {"training.kubeflow.org/job-role": "master"},
        )
        for kind in OPERATOR_KINDS
    },
}
FAILED = 'status.conditions.#(type=="Failed")#|#(status=="True")#'


def webhook_defaults(experiment: dict) -> dict:
    """The Experiment as Katib's mutating webhook would store it."""
    obj = json.loads(json.dumps(experiment))  # a deep copy; JSON-shaped data copies fastest
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelTrialCount", DEFAULT_PARALLEL_TRIAL_COUNT)
    if not spec.get("resumePolicy"):
        spec["resumePolicy"] = "Never"
    objective = spec.get("objective")
    if isinstance(objective, dict):
        strategies = objective.get("metricStrategies") or []
        covered = {s.get("name") for s in strategies if isinstance(s, dict)}
        value = {"minimize": "min", "maximize": "max"}.get(objective.get("type"), "latest")
        for name in [objective.get("objectiveMetricName")] + list(
            objective.get("additionalMetricNames") or []
        ):
            if name not in covered:
                strategies.append({"name": name, "value": value})
        objective["metricStrategies"] = strategies
    template = spec.get("trialTemplate")
    if isinstance(template, dict) and template.get("retain") is False:
        del template["retain"]  # omitempty: Katib stores nothing for false
    if isinstance(template, dict) and isinstance(template.get("trialSpec"), dict):
        kind = template["trialSpec"].get("kind")
        if kind in CONDITIONS:
            success, labels = CONDITIONS[kind]
            template["successCondition"] = template.get("successCondition") or success
            template["failureCondition"] = template.get("failureCondition") or FAILED
            if labels and not template.get("primaryPodLabels"):
                template["primaryPodLabels"] = labels
    collector_spec = spec.setdefault("metricsCollectorSpec", {})
    collector = collector_spec.setdefault("collector", {"kind": "StdOut"})
    source = collector_spec.get("source") or {}
    if collector.get("kind") == "File":
        path = source.setdefault("fileSystemPath", {})
        path.setdefault("kind", "File")
        path.setdefault("path", "/var/log/katib/metrics.log")
        path.setdefault("format", "TEXT")
        collector_spec["source"] = source
    elif collector.get("kind") == "TensorFlowEvent":
        path = source.setdefault("fileSystemPath", {})
        path.setdefault("kind", "Directory")
        path.setdefault("path", "/var/log/katib/tfevent/")
        collector_spec["source"] = source
    elif collector.get("kind") == "PrometheusMetric":
        http = source.setdefault("httpGet", {})
        http.setdefault("path", "/metrics")
        http.setdefault("port", 8080)
        collector_spec["source"] = source
    for parameter in spec.get("parameters") or []:
        if isinstance(parameter, dict):
            space = parameter.setdefault("feasibleSpace", {})
            if isinstance(space, dict) and not space.get("distribution"):
                space["distribution"] = "uniform"
    return obj


def drift_findings(experiment: dict, defaulted: dict | None = None) -> list[Finding]:
    """Values the webhook would add: Argo CD would show them as a permanent diff."""
    defaulted = defaulted if defaulted is not None else webhook_defaults(experiment)
    findings: list[Finding] = []
    _diff(experiment, defaulted, (), findings)
    return findings


def _diff(before, after, path, findings) -> None:
    if isinstance(after, dict) and isinstance(before, dict):
        for key in before.keys() - after.keys():
            findings.append(
                Finding(path + (key,), f"Katib would not store {key}: leave it out", "policy")
            )
        for key, value in after.items():
            if key not in before:
                findings.append(
                    Finding(
                        path + (key,),
                        f"Katib's webhook would set {key}: "
                        f"{json.dumps(value, sort_keys=True)}; write it out",
                        "policy",
                    )
                )
            else:
                _diff(before[key], value, path + (key,), findings)
    elif isinstance(after, list) and isinstance(before, list):
        for i, value in enumerate(after):
            if i >= len(before):
                findings.append(
                    Finding(
                        path + (i,),
                        f"Katib's webhook would append "
                        f"{json.dumps(value, sort_keys=True)}; write it out",
                        "policy",
                    )
                )
            else:
                _diff(before[i], value, path + (i,), findings)
