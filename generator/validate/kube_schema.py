"""Core Kubernetes kinds against kubernetes-validate's strict schemas (unknown fields are errors).

kubernetes_validate.validate() reloads its large definitions file on every call; rendering
hundreds of objects needs the compiled validator cached per kind.
"""

from __future__ import annotations

import re
from functools import cache

import jsonschema
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

from generator.validate import Finding

KUBERNETES_VERSION = "1.33"


@cache
def _schema_dir() -> str:
    versions = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= KUBERNETES_VERSION]
    return f"v{versions[-1]}-local-strict"


@cache
def _definitions() -> Resource:
    return Resource.from_contents(
        kv_utils.schema_contents(
            f"kubernetes-json-schema/{_schema_dir()}/_definitions.json", KUBERNETES_VERSION
        )
    )


@cache
def _validator(api_version: str, kind: str):
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    name = f"kubernetes-json-schema/{_schema_dir()}/{kind.lower()}-{group_version}.json"
    try:
        schema = kv_utils.schema_contents(name, KUBERNETES_VERSION)
    except (FileNotFoundError, kv_utils.VersionNotSupportedError):
        return None
    registry = Resource.from_contents(schema) @ Registry()
    registry = _definitions() @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


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
    findings = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        findings.append(Finding(base_path + tuple(error.absolute_path), _message(error)))
    return findings


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return f"unknown field: {error.message.split('(')[-1].rstrip(')')}"
    return error.message
