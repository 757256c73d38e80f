"""Core Kubernetes kinds against kubernetes-validate's strict schemas (unknown fields are errors).

The schemas are kubernetes-validate's; the validator is jsonschema-rs, compiled once per kind:
kubernetes_validate.validate() reloads its large definitions file on every call and validates in
pure Python, three orders of magnitude slower than rendering needs.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache

import jsonschema_rs
from kubernetes_validate import utils as kv_utils

from generator.validate import Finding

# The one Kubernetes version the project validates against: hpo check, the tests, and the pull
# request workflow's kubeconform (`python -m generator.validate.kube_schema` prints it for CI).
KUBERNETES_VERSION = "1.33"


@cache
def _schema_dir() -> str:
    versions = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= KUBERNETES_VERSION]
    return f"v{versions[-1]}-local-strict"


# The schemas refer to their shared definitions as "/api/_definitions.json#/$defs/...".
_BASE = "file:///api/"


@cache
def _definitions_document() -> dict:
    return kv_utils.schema_contents(
        f"kubernetes-json-schema/{_schema_dir()}/_definitions.json", KUBERNETES_VERSION
    )


def core_definitions() -> dict:
    """Name -> strict schema of every Kubernetes type (io.k8s.api.core.v1.PodTemplateSpec, ...);
    they refer to one another as "#/$defs/<name>". Custom kinds embed the ones they use."""
    return _definitions_document()["$defs"]


def embedded_definitions(roots: tuple[str, ...]) -> dict:
    """The named Kubernetes types and every type they refer to, without descriptions: the
    "$defs" of a custom kind's schema that stands alone (kubeconform reads one file)."""
    definitions = core_definitions()
    found: dict[str, dict] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found[name] = _without_descriptions(copy.deepcopy(definitions[name]))
        todo += re.findall(r'"#/\$defs/([^"]+)"', json.dumps(definitions[name]))
    return dict(sorted(found.items()))


def _without_descriptions(schema: object) -> object:
    if isinstance(schema, dict):
        return {k: _without_descriptions(v) for k, v in schema.items() if k != "description"}
    if isinstance(schema, list):
        return [_without_descriptions(item) for item in schema]
    return schema


def ref(name: str) -> dict:
    """A reference to an embedded Kubernetes type."""
    return {"$ref": f"#/$defs/{name}"}


def strict_object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    """An object of exactly these properties, as kubectl's strict field validation reads a kind."""
    schema = {"type": "object", "additionalProperties": False, "properties": properties}
    return {**schema, "required": list(required)} if required else schema


@cache
def _registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(_BASE + "_definitions.json", _definitions_document())])


@cache
def _validator(api_version: str, kind: str):
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    name = f"kubernetes-json-schema/{_schema_dir()}/{kind.lower()}-{group_version}.json"
    try:
        schema = kv_utils.schema_contents(name, KUBERNETES_VERSION)
    except (FileNotFoundError, kv_utils.VersionNotSupportedError):
        return None
    return jsonschema_rs.validator_for(
        schema, registry=_registry(), base_uri=f"{_BASE}{kind.lower()}.json"
    )


def has_schema(api_version: str, kind: str) -> bool:
    return _validator(api_version, kind) is not None


def validate_core(obj: dict, base_path: tuple = ()) -> list[Finding]:
    validator = _validator(obj.get("apiVersion", ""), obj.get("kind", ""))
    if validator is None:
        return [
            Finding(
                base_path,
                f"no Kubernetes {KUBERNETES_VERSION} schema for "
                f"{obj.get('apiVersion')}/{obj.get('kind')}",
            )
        ]
    findings = [
        Finding(base_path + tuple(error.instance_path), schema_message(error.message))
        for error in validator.iter_errors(obj)
    ]
    return sorted(findings, key=lambda f: tuple(map(str, f.path)))


def schema_message(message: str) -> str:
    unexpected = re.match(
        r"Additional properties are not allowed \((.*) (was|were) unexpected\)", message
    )
    return f"unknown field: {unexpected[1]}" if unexpected else message


if __name__ == "__main__":
    print(f"version={KUBERNETES_VERSION}.0")  # a step output, in kubeconform's spelling
