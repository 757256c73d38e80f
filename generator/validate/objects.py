"""Route each object to the validators for its kind."""

from __future__ import annotations

from generator.validate import Finding
from generator.validate.experiment_schema import validate_experiment_schema
from generator.validate.katib_rules import admission_findings, drift_findings, webhook_defaults
from generator.validate.kube_schema import has_schema, validate_core
from generator.validate.pod_policy import policy_findings
from generator.validate.pytorchjob import validate_pytorchjob

TRIAL_SPEC = ("spec", "trialTemplate", "trialSpec")


def validate_object(obj: dict) -> list[Finding]:
    if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind"):
        return [Finding((), "not a Kubernetes object: apiVersion and kind are required")]
    api_version, kind = obj["apiVersion"], obj["kind"]
    if (api_version, kind) == ("kubeflow.org/v1beta1", "Experiment"):
        return _experiment(obj)
    if (api_version, kind) == ("kubeflow.org/v1", "PyTorchJob"):
        return validate_pytorchjob(obj) + policy_findings(obj)
    if has_schema(api_version, kind):
        return validate_core(obj) + policy_findings(obj)
    return [Finding(("kind",), f"{api_version} {kind} is not a kind this project can check")]


def _experiment(obj: dict) -> list[Finding]:
    findings = validate_experiment_schema(obj)
    defaulted = webhook_defaults(obj)
    findings += admission_findings(obj, defaulted)
    findings += drift_findings(obj, defaulted)
    findings += policy_findings(obj)
    trial = ((obj.get("spec") or {}).get("trialTemplate") or {}).get("trialSpec")
    if isinstance(trial, dict):
        kind = (trial.get("apiVersion"), trial.get("kind"))
        if kind == ("batch/v1", "Job"):
            findings += validate_core(trial, TRIAL_SPEC)
        elif kind == ("kubeflow.org/v1", "PyTorchJob"):
            findings += validate_pytorchjob(trial, TRIAL_SPEC)
    return findings
