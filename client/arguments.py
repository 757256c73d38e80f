"""tune()'s arguments in every form Katib's SDK takes them, as definition keys.

Katib 0.19 accepts `resources_per_trial` as a dict, a kubernetes `V1ResourceRequirements` or a
`TrainerResources`; `env_per_trial` as a dict or a list of `V1EnvVar`; `algorithm_settings` as a
dict or a list of `V1beta1AlgorithmSetting`; `metrics_collector_config` as `{"kind": ...}`. Each
is read by its fields, so neither SDK is imported; anything else is a ClientError that names the
argument and what it accepts, never a TypeError from deep inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from client.errors import ClientError
from client.params import plain
from generator.loading.model_errors import did_you_mean
from generator.spec import UNSUPPORTED_TUNE_ARGUMENTS, ExperimentSpec

GPU_RESOURCE = "nvidia.com/gpu"
RESOURCES_FORMS = (
    "a dict such as {'gpu': 2, 'cpu': 4, 'memory': '10G'}, a kubernetes V1ResourceRequirements, "
    "or a TrainerResources(num_workers, num_procs_per_worker, resources_per_worker)"
)


def _number_text(text: str) -> Any:
    """Numbers as a person writes them ("4" -> 4); quantities such as "500m" stay strings."""
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _from_requirements(requirements: Any) -> dict[str, Any]:
    """A V1ResourceRequirements (or a mapping shaped like one) as {gpu, cpu, memory}."""
    amounts = dict(getattr(requirements, "requests", None) or {})
    amounts.update(getattr(requirements, "limits", None) or {})  # limits are what a pod gets
    unknown = sorted(set(amounts) - {"cpu", "memory", GPU_RESOURCE})
    if unknown:
        raise ClientError(
            f"resources_per_trial: {', '.join(unknown)} cannot be requested here; use cpu, "
            f"memory and {GPU_RESOURCE}"
        )
    renamed = {"gpu" if key == GPU_RESOURCE else key: value for key, value in amounts.items()}
    return {key: renamed[key] for key in ("gpu", "cpu", "memory") if key in renamed}


def resources_section(value: Any) -> dict[str, Any]:
    """resources_per_trial in definition form: {gpu, cpu, memory, num_workers, ...}."""
    if hasattr(value, "resources_per_worker"):  # kubeflow.katib.types.types.TrainerResources
        per_worker = value.resources_per_worker
        flat = (
            dict(per_worker)
            if isinstance(per_worker, Mapping)
            else _from_requirements(per_worker)
            if per_worker is not None
            else {}
        )
        flat["num_workers"] = value.num_workers
        flat["num_procs_per_worker"] = value.num_procs_per_worker
        value = flat
    elif hasattr(value, "limits") or hasattr(value, "requests"):
        value = _from_requirements(value)
    if not isinstance(value, Mapping):
        raise ClientError(
            f"resources_per_trial: expected {RESOURCES_FORMS}, got {type(value).__name__}"
        )
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key in ("gpu", "cpu", "num_workers", "num_procs_per_worker") and isinstance(item, str):
            item = _number_text(item)
        out[str(key)] = item
    return out


def _env_entry(entry: Any) -> tuple[str, Any]:
    name = getattr(entry, "name", None)
    if not isinstance(name, str) or hasattr(entry, "config_map_ref"):
        raise ClientError(
            "env_per_trial: expected a dict or a list of kubernetes V1EnvVar; "
            f"{type(entry).__name__} (envFrom) cannot be written into a definition: name each "
            "variable, and each Secret key as {'secret': NAME, 'key': KEY}"
        )
    source = getattr(entry, "value_from", None)
    if source is None:
        return name, getattr(entry, "value", None) or ""
    secret = getattr(source, "secret_key_ref", None)
    if secret is None:
        raise ClientError(
            f"env_per_trial: {name} reads a {type(source).__name__} other than a Secret key; "
            "only secretKeyRef can be written into a definition"
        )
    return name, {"secret": secret.name, "key": secret.key}


def env_section(value: Any) -> dict[str, Any]:
    """env_per_trial in definition form: NAME -> value or {secret, key}."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return dict(_env_entry(entry) for entry in value)
    got = type(value).__name__
    raise ClientError(f"env_per_trial: expected a dict or a list of kubernetes V1EnvVar, got {got}")


def settings_section(value: Any) -> dict[str, Any]:
    """algorithm_settings in definition form: name -> value."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and all(
        hasattr(item, "name") and hasattr(item, "value") for item in value
    ):
        return {item.name: plain(item.value) for item in value}
    raise ClientError(
        "algorithm_settings: expected a dict or a list of V1beta1AlgorithmSetting(name, value), "
        f"got {type(value).__name__}"
    )


def collector_section(value: Any) -> dict[str, Any]:
    """metrics_collector_config as Katib takes it: {"kind": "StdOut"}, or a collector spec."""
    collector = getattr(value, "collector", None)
    if collector is not None:  # a V1beta1MetricsCollectorSpec
        value = {"kind": getattr(collector, "kind", None)}
    elif isinstance(value, Mapping) and isinstance(value.get("collector"), Mapping):
        value = value["collector"]  # the CRD's nesting: {"collector": {"kind": ...}}
    if not isinstance(value, Mapping) or not isinstance(value.get("kind"), str):
        raise ClientError(
            "metrics_collector_config: expected {'kind': 'StdOut'} (the trainer prints its "
            f"metrics), got {value!r}"
        )
    return {k: v for k, v in value.items() if v is not None}


# tune() arguments read by a converter of their own rather than written as given.
_CONVERTED = {
    "name",
    "cluster",
    "namespace",
    "model_provider_parameters",
    "dataset_provider_parameters",
    "trainer_parameters",
    "resources_per_trial",
}


# Arguments Katib takes in several forms, each read into its definition key.
CONVERTERS = {
    "env_per_trial": env_section,
    "algorithm_settings": settings_section,
    "metrics_collector_config": collector_section,
}


def other_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """tune()'s remaining keyword arguments as definition keys: unknown and function-mode
    arguments refused by name, None left out, Katib's several forms converted."""
    known = [k for k in ExperimentSpec.model_fields if k not in _CONVERTED]
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        if key in UNSUPPORTED_TUNE_ARGUMENTS:
            raise ClientError(f"{key}: not supported here: {UNSUPPORTED_TUNE_ARGUMENTS[key]}")
        if key not in known:
            hint = did_you_mean(key, known)
            raise ClientError(f"tune() got an unknown argument '{key}'{hint}")
        if value is None:
            continue
        if key in CONVERTERS:
            value = CONVERTERS[key](value)
        elif key == "storage_config" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        out[key] = plain(value)
    return out
