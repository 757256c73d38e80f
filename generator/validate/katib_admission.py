"""Katib's validating Experiment webhook, offline: what it would refuse.

`admission_findings` runs the webhook's rules on the defaulted object, as the API server would.
Rules that need the live cluster (the namespace label, katib-config images, leftover FromVolume
PVs, UPDATE-only rules) are out of reach offline; `hpo check --base` covers the UPDATE rule on
editable fields.
"""

from __future__ import annotations

import json
import re

from generator.spec import DNS1123_SUBDOMAIN
from generator.validate import Finding
from generator.validate.katib_defaults import webhook_defaults
from suggestion.settings import ALGORITHM_NAMES

NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?")
MAX_NAME = 40
PARAMETER_TYPES = ("int", "double", "categorical", "discrete", "unknown")
DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal", "unknown")
METADATA_REFERENCE = re.compile(
    r"\$\{trialSpec\.(Name|Namespace|Kind|APIVersion|Labels\[[^\]]+\]|Annotations\[[^\]]+\])\}"
)
PLACEHOLDER = re.compile(r"\$\{trialParameters\.([^}]*)\}")
COLLECTOR_KINDS = ("StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "Push")


def admission_findings(experiment: dict, defaulted: dict | None = None) -> list[Finding]:
    """What Katib's validating webhook would refuse, checked after its defaults, in its order."""
    obj = defaulted if defaulted is not None else webhook_defaults(experiment)
    findings: list[Finding] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    # Katib's own pattern is anchored only at the start; the API server adds DNS-1123.
    if not NAME.match(name) or len(name) > MAX_NAME or not DNS1123_SUBDOMAIN.match(name):
        findings.append(
            Finding(
                ("metadata", "name"),
                f"name '{name}' must start with a lowercase letter, use only "
                f"lowercase letters, digits and '-', and have at most {MAX_NAME} characters",
            )
        )
    spec = obj.get("spec") or {}
    findings += _counts(spec)
    objective = spec.get("objective")
    if not isinstance(objective, dict):
        return findings + [Finding(("spec", "objective"), "objective is required")]
    objective_findings = _objective(objective)
    if objective_findings:
        return findings + objective_findings
    findings += _algorithm(spec)
    findings += _trial_template(spec)
    findings += _parameters(spec)
    findings += _collector(spec)
    if spec.get("resumePolicy") not in ("Never", "LongRunning", "FromVolume"):
        findings.append(Finding(("spec", "resumePolicy"), "invalid ResumePolicyType"))
    return findings


def _counts(spec: dict) -> list[Finding]:
    findings = []
    max_trials, parallel, failed = (
        spec.get("maxTrialCount"),
        spec.get("parallelTrialCount"),
        spec.get("maxFailedTrialCount"),
    )
    if failed is not None and failed < 0:
        findings.append(Finding(("spec", "maxFailedTrialCount"), "should not be less than 0"))
    if max_trials is not None and max_trials <= 0:
        findings.append(Finding(("spec", "maxTrialCount"), "must be greater than 0"))
    if parallel is not None and parallel <= 0:
        findings.append(Finding(("spec", "parallelTrialCount"), "must be greater than 0"))
    if max_trials is not None and failed is not None and failed > max_trials:
        findings.append(
            Finding(
                ("spec", "maxFailedTrialCount"),
                "should be less than or equal to spec.maxTrialCount",
            )
        )
    if max_trials is not None and parallel is not None and parallel > max_trials:
        findings.append(
            Finding(
                ("spec", "parallelTrialCount"), "should be less than or equal to spec.maxTrialCount"
            )
        )
    return findings


def _objective(objective: dict) -> list[Finding]:
    findings = []
    if objective.get("type") not in ("minimize", "maximize"):
        findings.append(Finding(("spec", "objective", "type"), "type must be minimize or maximize"))
    metric = objective.get("objectiveMetricName")
    if not metric:
        findings.append(
            Finding(
                ("spec", "objective", "objectiveMetricName"),
                "objectiveMetricName must be specified",
            )
        )
    if metric and metric in (objective.get("additionalMetricNames") or []):
        findings.append(
            Finding(
                ("spec", "objective", "additionalMetricNames"),
                "additionalMetricNames should not contain objectiveMetricName",
            )
        )
    return findings


def _algorithm(spec: dict) -> list[Finding]:
    findings = []
    algorithm = spec.get("algorithm")
    if not isinstance(algorithm, dict):
        return [Finding(("spec", "algorithm"), "algorithm is required")]
    name = algorithm.get("algorithmName")
    if not name:
        findings.append(
            Finding(("spec", "algorithm", "algorithmName"), "algorithmName is required")
        )
    elif name not in ALGORITHM_NAMES:
        findings.append(
            Finding(
                ("spec", "algorithm", "algorithmName"),
                f"unable to get Suggestion config data for algorithm {name}",
            )
        )
    early = spec.get("earlyStopping")
    if early is not None and (early or {}).get("algorithmName") != "medianstop":
        findings.append(
            Finding(
                ("spec", "earlyStopping", "algorithmName"),
                "unknown early stopping algorithm (Katib ships medianstop)",
            )
        )
    return findings


def _trial_template(spec: dict) -> list[Finding]:
    base = ("spec", "trialTemplate")
    template = spec.get("trialTemplate")
    if not isinstance(template, dict):
        return [Finding(base, "trialTemplate is required")]
    findings = []
    if not template.get("primaryContainerName"):
        findings.append(
            Finding(base + ("primaryContainerName",), "primaryContainerName is required")
        )
    if not template.get("successCondition") or not template.get("failureCondition"):
        findings.append(Finding(base, "successCondition and failureCondition are required"))
    parameters = template.get("trialParameters")
    if parameters is None:
        return findings + [Finding(base + ("trialParameters",), "trialParameters is required")]
    trial_spec, config_map = template.get("trialSpec"), template.get("configMap")
    if trial_spec is None and config_map is None:
        return findings + [Finding(base, "trialSpec or configMap is required")]
    if trial_spec is not None and config_map is not None:
        return findings + [Finding(base, "only one of trialSpec or configMap can be specified")]
    if trial_spec is None:
        if not all(
            (config_map or {}).get(k)
            for k in ("configMapName", "configMapNamespace", "templatePath")
        ):
            findings.append(
                Finding(
                    base + ("configMap",),
                    "configMapName, configMapNamespace and templatePath are required",
                )
            )
        return findings  # the template text lives in the cluster
    findings += _trial_parameters(spec, parameters, trial_spec, base)
    metadata = trial_spec.get("metadata") or {}
    if "name" in metadata or "namespace" in metadata:
        findings.append(
            Finding(
                base + ("trialSpec", "metadata"),
                "trialSpec must not set metadata.name or metadata.namespace",
            )
        )
    for key in ("apiVersion", "kind"):
        if not trial_spec.get(key):
            findings.append(Finding(base + ("trialSpec", key), f"trialSpec.{key} is required"))
    return findings


def _trial_parameters(spec: dict, parameters: list, trial_spec: dict, base: tuple) -> list[Finding]:
    """Each trial parameter named once, referring to a parameter or trial metadata, and used in
    the trial spec; every placeholder in the spec declared."""
    findings = []
    text = json.dumps(trial_spec, sort_keys=True)
    names = {p.get("name") for p in spec.get("parameters") or [] if isinstance(p, dict)}
    seen_names, seen_references = set(), set()
    for i, parameter in enumerate(parameters):
        loc = base + ("trialParameters", i)
        name, reference = parameter.get("name") or "", parameter.get("reference") or ""
        if not name or not reference or "{" in name or "}" in name:
            findings.append(
                Finding(loc, "name and reference are required; name must not contain { or }")
            )
            continue
        if name in seen_names:
            findings.append(Finding(loc + ("name",), f"duplicate trial parameter name {name}"))
            continue
        if reference in seen_references:
            findings.append(
                Finding(loc + ("reference",), f"duplicate trial parameter reference {reference}")
            )
            continue
        seen_names.add(name)
        seen_references.add(reference)
        if names and reference not in names and not METADATA_REFERENCE.search(reference):
            findings.append(
                Finding(
                    loc + ("reference",),
                    f"reference {reference} is neither a parameter nor trial metadata",
                )
            )
        placeholder = "${trialParameters." + name + "}"
        if placeholder not in text:
            findings.append(Finding(loc, f"parameter name {name} not found in spec.trialTemplate"))
            return findings
        text = text.replace(placeholder, "1")
    leftover = sorted(set(PLACEHOLDER.findall(text)))
    if leftover:
        findings.append(
            Finding(base + ("trialSpec",), f"trialParameters not declared: {', '.join(leftover)}")
        )
    return findings


def _parameters(spec: dict) -> list[Finding]:
    parameters = spec.get("parameters") or []
    if not parameters and spec.get("nasConfig") is None:
        return [
            Finding(("spec", "parameters"), "spec.parameters or spec.nasConfig must be specified")
        ]
    if parameters and spec.get("nasConfig") is not None:
        return [
            Finding(("spec",), "only one of spec.parameters and spec.nasConfig can be specified")
        ]
    findings = []
    for i, parameter in enumerate(parameters):
        loc = ("spec", "parameters", i)
        kind = parameter.get("parameterType")
        space = parameter.get("feasibleSpace") or {}
        if kind not in PARAMETER_TYPES:
            findings.append(
                Finding(loc + ("parameterType",), f"parameterType: {kind} is not supported")
            )
            continue
        if space.get("distribution") and space["distribution"] not in DISTRIBUTIONS:
            findings.append(
                Finding(loc + ("feasibleSpace", "distribution"), "invalid distribution")
            )
        if kind in ("int", "double"):
            if space.get("list"):
                findings.append(
                    Finding(
                        loc + ("feasibleSpace", "list"),
                        f"feasibleSpace.list is not supported for {kind}",
                    )
                )
            if not space.get("min") or not space.get("max"):
                findings.append(Finding(loc + ("feasibleSpace", "max"), "min and max are required"))
        elif kind in ("categorical", "discrete"):
            for key in ("min", "max", "step"):
                if space.get(key):
                    findings.append(
                        Finding(
                            loc + ("feasibleSpace", key),
                            f"feasibleSpace.{key} is not supported for {kind}",
                        )
                    )
    return findings


def _collector(spec: dict) -> list[Finding]:
    base = ("spec", "metricsCollectorSpec")
    collector_spec = spec.get("metricsCollectorSpec") or {}
    kind = (collector_spec.get("collector") or {}).get("kind")
    source = collector_spec.get("source") or {}
    if kind not in COLLECTOR_KINDS:
        return [Finding(base + ("collector", "kind"), f"invalid metrics collector kind {kind}")]
    if kind in ("StdOut", "Push"):
        return []
    findings = []
    path = source.get("fileSystemPath") or {}
    if kind == "File" and (
        path.get("kind") != "File" or not str(path.get("path", "")).startswith("/")
    ):
        findings.append(
            Finding(
                base + ("source", "fileSystemPath"),
                "File collector needs kind File and an absolute path",
            )
        )
    if kind == "TensorFlowEvent" and (
        path.get("kind") != "Directory" or not str(path.get("path", "")).startswith("/")
    ):
        findings.append(
            Finding(
                base + ("source", "fileSystemPath"),
                "TensorFlowEvent collector needs kind Directory and an absolute path",
            )
        )
    if kind == "Custom" and not (collector_spec.get("collector") or {}).get("customCollector"):
        findings.append(
            Finding(base + ("collector", "customCollector"), "customCollector is required")
        )
    for i, pattern in enumerate((source.get("filter") or {}).get("metricsFormat") or []):
        if not re.fullmatch(r".*\(.*\).*\(.*\).*", pattern):
            findings.append(
                Finding(
                    base + ("source", "filter", "metricsFormat", i),
                    "metricsFormat needs two groups: the name and the value",
                )
            )
    return findings
