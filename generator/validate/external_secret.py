"""ExternalSecret (external-secrets.io/v1): a strict schema of the API's documented fields, and
the operator's own rules.

The schema is written here from the External Secrets Operator's v1 API reference
(ExternalSecretSpec, SecretStoreRef, ExternalSecretTarget, ExternalSecretTemplate,
ExternalSecretData, ExternalSecretDataRemoteRef, ExternalSecretDataFromRemoteRef, StoreSourceRef,
GeneratorRef), strict on unknown fields as kubectl's strict field validation is; object metadata
is Kubernetes' own, embedded from kubernetes-validate's strict schemas, so the schema stands
alone for `hpo schemas export` and kubeconform. The status is left open: the operator writes it.

After the schema, what the operator refuses or cannot do with a valid object: an ExternalSecret
that reads nothing (no data, no dataFrom), two entries writing one Secret key, and the
creationPolicy/deletionPolicy pairs its documentation forbids because they would delete a Secret
the ExternalSecret does not own.
"""

from __future__ import annotations

from functools import cache

import jsonschema_rs

from generator.validate import Finding
from generator.validate.kube_schema import embedded_definitions, ref, schema_message
from generator.validate.kube_schema import strict_object as _obj

API_VERSION = "external-secrets.io/v1"
KIND = "ExternalSecret"

STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
STRING_MAP = {"type": "object", "additionalProperties": STRING}
# metadata.name-like fields: a DNS-1123 subdomain, as the API's validation patterns say.
NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 253,
    "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
}
SECRET_KEY = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": r"^[-._a-zA-Z0-9]+$"}
# A Go duration, as metav1.Duration is written: "1h", "2h30m", "10s", "0s".
DURATION = {"type": "string", "pattern": r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$"}
CONVERSION = {"enum": ["Default", "Unicode"]}
DECODING = {"enum": ["Auto", "Base64", "Base64URL", "None"]}

STORE_REF = _obj({"name": NAME, "kind": {"enum": ["SecretStore", "ClusterSecretStore"]}})
GENERATOR_REF = _obj({"apiVersion": STRING, "kind": STRING, "name": NAME}, ("kind", "name"))
REMOTE_REF = _obj(
    {
        "key": STRING,
        "metadataPolicy": {"enum": ["None", "Fetch"]},
        "property": STRING,
        "version": STRING,
        "conversionStrategy": CONVERSION,
        "decodingStrategy": DECODING,
    },
    ("key",),
)
TEMPLATE_REF = _obj(
    {
        "name": NAME,
        "items": {
            "type": "array",
            "items": _obj(
                {"key": SECRET_KEY, "templateAs": {"enum": ["Values", "KeysAndValues"]}},
                ("key",),
            ),
        },
    },
    ("name", "items"),
)
TEMPLATE = _obj(
    {
        "type": STRING,
        "engineVersion": {"enum": ["v2"]},
        "metadata": _obj({"annotations": STRING_MAP, "labels": STRING_MAP}),
        "mergePolicy": {"enum": ["Replace", "Merge"]},
        "data": STRING_MAP,
        "templateFrom": {
            "type": "array",
            "items": _obj(
                {
                    "configMap": TEMPLATE_REF,
                    "secret": TEMPLATE_REF,
                    "target": {"enum": ["Data", "Annotations", "Labels"]},
                    "literal": STRING,
                }
            ),
        },
    }
)
TARGET = _obj(
    {
        "name": NAME,
        "creationPolicy": {"enum": ["Owner", "Orphan", "Merge", "None"]},
        "deletionPolicy": {"enum": ["Delete", "Merge", "Retain"]},
        "template": TEMPLATE,
        "immutable": BOOLEAN,
    }
)
ONE_SOURCE = {"minProperties": 1, "maxProperties": 1}
DATA = _obj(
    {
        "secretKey": SECRET_KEY,
        "remoteRef": REMOTE_REF,
        "sourceRef": {**_obj({"storeRef": STORE_REF, "generatorRef": GENERATOR_REF}), **ONE_SOURCE},
    },
    ("secretKey", "remoteRef"),
)
FIND = _obj(
    {
        "path": STRING,
        "name": _obj({"regexp": STRING}),
        "tags": STRING_MAP,
        "conversionStrategy": CONVERSION,
        "decodingStrategy": DECODING,
    }
)
REWRITE = {
    **_obj(
        {
            "merge": _obj(
                {
                    "into": STRING,
                    "priority": {"type": "array", "items": STRING},
                    "conflictPolicy": {"enum": ["Ignore", "Error"]},
                    "strategy": {"enum": ["Extract", "JSON"]},
                }
            ),
            "regexp": _obj({"source": STRING, "target": STRING}, ("source", "target")),
            "transform": _obj({"template": STRING}, ("template",)),
        }
    ),
    **ONE_SOURCE,
}
DATA_FROM = _obj(
    {
        "extract": REMOTE_REF,
        "find": FIND,
        "rewrite": {"type": "array", "items": REWRITE},
        "sourceRef": {**_obj({"storeRef": STORE_REF, "generatorRef": GENERATOR_REF}), **ONE_SOURCE},
    }
)
SPEC = _obj(
    {
        "secretStoreRef": STORE_REF,
        "target": TARGET,
        "refreshPolicy": {"enum": ["CreatedOnce", "Periodic", "OnChange"]},
        "refreshInterval": DURATION,
        "data": {"type": "array", "items": DATA},
        "dataFrom": {"type": "array", "items": DATA_FROM},
    }
)
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# Pairs the operator refuses: each would delete a Secret the ExternalSecret did not create.
FORBIDDEN_POLICIES = {("Merge", "Delete"), ("None", "Delete"), ("None", "Merge")}


@cache
def external_secret_schema() -> dict:
    """The ExternalSecret schema, standing alone (its Kubernetes types under $defs)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"{KIND} ({API_VERSION})",
        **_obj(
            {
                "apiVersion": {"const": API_VERSION},
                "kind": {"const": KIND},
                "metadata": ref(OBJECT_META),
                "spec": SPEC,
                "status": {"type": "object"},
            },
            ("apiVersion", "kind", "spec"),
        ),
        "$defs": embedded_definitions((OBJECT_META,)),
    }


@cache
def _validator():
    return jsonschema_rs.validator_for(external_secret_schema())


def validate_external_secret(obj: dict) -> list[Finding]:
    """Schema findings first; the operator's rules only on an object of the right shape."""
    findings = [
        Finding(tuple(error.instance_path), schema_message(error.message))
        for error in _validator().iter_errors(obj)
    ]
    if findings:
        return sorted(findings, key=lambda f: tuple(map(str, f.path)))
    return _operator_rules(obj["spec"])


def _operator_rules(spec: dict) -> list[Finding]:
    findings = []
    data = spec.get("data") or []
    if not data and not spec.get("dataFrom"):
        findings.append(Finding(("spec",), "an ExternalSecret needs data or dataFrom"))
    seen: set[str] = set()
    for i, entry in enumerate(data):
        if entry["secretKey"] in seen:
            message = f"secretKey '{entry['secretKey']}' is written twice"
            findings.append(Finding(("spec", "data", i, "secretKey"), message))
        seen.add(entry["secretKey"])
    target = spec.get("target") or {}
    policies = (target.get("creationPolicy", "Owner"), target.get("deletionPolicy", "Retain"))
    if policies in FORBIDDEN_POLICIES:
        findings.append(
            Finding(
                ("spec", "target", "deletionPolicy"),
                f"deletionPolicy {policies[1]} is not allowed with creationPolicy {policies[0]}",
            )
        )
    return findings
