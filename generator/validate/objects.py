"""Route each object to the validators for its kind."""

from __future__ import annotations

from generator.checks.secrets import object_findings
from generator.validate import Finding
from generator.validate.experiment_schema import validate_experiment_schema
from generator.validate.external_secret import API_VERSION as EXTERNAL_SECRET_API_VERSION
from generator.validate.external_secret import validate_external_secret
from generator.validate.katib_admission import admission_findings
from generator.validate.katib_defaults import drift_findings, webhook_defaults
from generator.validate.katib_suggestion import suggestion_findings
from generator.validate.kube_schema import has_schema, validate_core
from generator.validate.pod_policy import policy_findings
from generator.validate.pytorchjob import validate_pytorchjob
from generator.validate.shell_safety import shell_findings
from generator.validate.trainer_v2 import API_VERSION as TRAINER_API_VERSION
from generator.validate.trainer_v2 import validate_trainer_v2

TRAINER_KINDS = ("TrainJob", "ClusterTrainingRuntime")

TRIAL_SPEC = ("spec", "trialTemplate", "trialSpec")


def validate_object(obj: object) -> list[Finding]:
    """Schema first; the rules and policies run only on an object of the right shape. Every
    string is scanned for credentials whatever the shape."""
    findings = _validate(obj)
    if isinstance(obj, dict | list):
        findings += object_findings(obj)
    return findings


def _validate(obj: object) -> list[Finding]:
    if not isinstance(obj, dict) or not all(
        isinstance(obj.get(key), str) and obj.get(key) for key in ("apiVersion", "kind")
    ):
        return [Finding((), "not a Kubernetes object: apiVersion and kind must be strings")]
    api_version, kind = obj["apiVersion"], obj["kind"]
    if (api_version, kind) == ("kubeflow.org/v1beta1", "Experiment"):
        return _experiment(obj)
    if (api_version, kind) == ("kubeflow.org/v1", "PyTorchJob"):
        return validate_pytorchjob(obj) or policy_findings(obj)
    if api_version == TRAINER_API_VERSION and kind in TRAINER_KINDS:
        return validate_trainer_v2(obj) or policy_findings(obj)
    if (api_version, kind) == (EXTERNAL_SECRET_API_VERSION, "ExternalSecret"):
        return validate_external_secret(obj)
    if has_schema(api_version, kind):
        return validate_core(obj) or policy_findings(obj)
    return [Finding(("kind",), f"{api_version} {kind} is not a kind this project can check")]


def _trial_spec_findings(obj: dict) -> list[Finding]:
    trial = obj["spec"].get("trialTemplate", {}).get("trialSpec")
    if not isinstance(trial, dict):
        return []
    kind = (trial.get("apiVersion"), trial.get("kind"))
    if kind == ("batch/v1", "Job"):
        return validate_core(trial, TRIAL_SPEC)
    if kind == ("kubeflow.org/v1", "PyTorchJob"):
        return validate_pytorchjob(trial, TRIAL_SPEC)
    if kind == (TRAINER_API_VERSION, "TrainJob"):
        return validate_trainer_v2(trial, TRIAL_SPEC)
    return []


def _experiment(obj: dict) -> list[Finding]:
    findings = validate_experiment_schema(obj)
    if findings:
        return findings
    findings = _trial_spec_findings(obj)
    if findings:
        return findings
    defaulted = webhook_defaults(obj)
    return (
        admission_findings(obj, defaulted)
        + suggestion_findings(defaulted.get("spec") or {})
        + drift_findings(obj, defaulted)
        + policy_findings(obj)
        + shell_findings(obj)
    )
