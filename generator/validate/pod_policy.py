"""This project's requirements on every pod it renders.

The Kubernetes "restricted" Pod Security Standard (so trials run in namespaces that enforce it),
images pinned by tag or digest, and credentials only through secretKeyRef.
"""

from __future__ import annotations

import re

from generator.loading.repo_config import image_pin_problem
from generator.validate import Finding

SECRET_LOOKING_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY", re.I)
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def pod_specs(obj: dict) -> list[tuple[tuple, dict]]:
    """(path, pod spec) of every pod template in a workload, Katib trial templates included."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return [(("spec",), spec)]
    if kind in ("Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return [(("spec", "template", "spec"), (spec.get("template") or {}).get("spec") or {})]
    if kind == "PyTorchJob":
        return [
            (
                ("spec", "pytorchReplicaSpecs", role, "template", "spec"),
                ((replica or {}).get("template") or {}).get("spec") or {},
            )
            for role, replica in sorted((spec.get("pytorchReplicaSpecs") or {}).items())
        ]
    if kind == "TrainJob":  # what its runtime patches add to the runtime's pods
        return [
            (("spec", "runtimePatches", i, "trainingRuntimeSpec") + path, pod)
            for i, patch in enumerate(spec.get("runtimePatches") or [])
            for path, pod in _jobset_pods((patch or {}).get("trainingRuntimeSpec") or {})
        ]
    if kind in ("ClusterTrainingRuntime", "TrainingRuntime"):
        return [(("spec",) + path, pod) for path, pod in _jobset_pods(spec)]
    if kind == "Experiment":
        trial = (spec.get("trialTemplate") or {}).get("trialSpec")
        if isinstance(trial, dict):
            base = ("spec", "trialTemplate", "trialSpec")
            return [(base + path, pod) for path, pod in pod_specs(trial)]
    return []


def _jobset_pods(runtime_spec: dict) -> list[tuple[tuple, dict]]:
    """The pod template of each replicated job of a (patched) JobSet template."""
    jobs = (((runtime_spec.get("template") or {}).get("spec") or {}).get("replicatedJobs")) or []
    return [
        (
            ("template", "spec", "replicatedJobs", i, "template", "spec", "template", "spec"),
            (((job or {}).get("template") or {}).get("spec") or {}).get("template", {}).get("spec")
            or {},
        )
        for i, job in enumerate(jobs)
    ]


def containers(obj: dict) -> list[tuple[tuple, dict]]:
    """(path, container) of every container that runs a command: each pod's, and a TrainJob's
    trainer, which sets the command, image and environment of its runtime's container."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "TrainJob":
        return [(("spec", "trainer"), spec.get("trainer") or {})]
    if kind == "Experiment":
        trial = (spec.get("trialTemplate") or {}).get("trialSpec")
        base = ("spec", "trialTemplate", "trialSpec")
        return [(base + p, c) for p, c in containers(trial)] if isinstance(trial, dict) else []
    return [
        (path + (group, i), container)
        for path, pod in pod_specs(obj)
        for group in ("initContainers", "containers")
        for i, container in enumerate(pod.get(group) or [])
    ]


def policy_findings(obj: dict) -> list[Finding]:
    findings: list[Finding] = []
    for path, pod in pod_specs(obj):
        findings += _restricted(path, pod)
    for path, container in containers(obj):
        findings += _container(path, container)
    return findings


def _restricted(path: tuple, pod: dict) -> list[Finding]:
    findings = []
    context = pod.get("securityContext") or {}
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            findings.append(Finding(path + (key,), f"restricted pods must not set {key}", "policy"))
    if (context.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        findings.append(
            Finding(
                path + ("securityContext", "seccompProfile"),
                "restricted pods need seccompProfile RuntimeDefault",
                "policy",
            )
        )
    for i, volume in enumerate(pod.get("volumes") or []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            findings.append(
                Finding(
                    path + ("volumes", i),
                    f"volume type {', '.join(sorted(kinds))} "
                    "is not allowed by the restricted profile",
                    "policy",
                )
            )
    pod_non_root = context.get("runAsNonRoot") is True
    for group in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(group) or []):
            cpath = path + (group, i, "securityContext")
            sc = container.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                findings.append(Finding(cpath, "allowPrivilegeEscalation must be false", "policy"))
            if sc.get("privileged"):
                findings.append(Finding(cpath, "privileged containers are not allowed", "policy"))
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                findings.append(Finding(cpath, "capabilities must drop ALL", "policy"))
            if set((sc.get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}:
                findings.append(Finding(cpath, "only NET_BIND_SERVICE may be added", "policy"))
            if not (sc.get("runAsNonRoot") is True or (pod_non_root and "runAsNonRoot" not in sc)):
                findings.append(Finding(cpath, "runAsNonRoot must be true", "policy"))
            if sc.get("runAsUser") == 0 or (
                context.get("runAsUser") == 0 and "runAsUser" not in sc
            ):
                findings.append(Finding(cpath, "containers must not run as UID 0", "policy"))
    return findings


def _container(path: tuple, container: dict) -> list[Finding]:
    findings = []
    image = container.get("image")
    if not image:
        findings.append(Finding(path + ("image",), "image is required"))
    elif (why := image_pin_problem(image)) is not None:
        findings.append(Finding(path + ("image",), why, "policy"))
    if not container.get("command"):
        findings.append(
            Finding(
                path + ("command",),
                "set command explicitly: Katib's metrics "
                "collector wraps it, and image entrypoints differ",
                "policy",
            )
        )
    for i, env in enumerate(container.get("env") or []):
        if "value" in env and SECRET_LOOKING_NAME.search(env.get("name", "")):
            findings.append(
                Finding(
                    path + ("env", i),
                    f"{env['name']} looks like a credential: use valueFrom.secretKeyRef",
                    "policy",
                )
            )
    return findings
