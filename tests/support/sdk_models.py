"""Checks a dict against the Kubeflow and Kubernetes SDK models, field name by field name.

The SDKs' generated models list every field of the API's objects under its JSON name, so a dict
with a key no model knows holds a misspelt or invented field: one the API server would drop and
no code would ever read. The fixture builders run `require_known_fields` on what they return,
so such a fixture fails the test that builds it instead of silently testing nothing.
"""

from __future__ import annotations

import functools
from typing import Any

_SCALARS = {"str", "int", "float", "bool", "datetime", "date", "object"}


def unknown_fields(data: Any, model: str, path: str = "") -> list[str]:
    """Paths in `data` that the SDK model `model` (e.g. "V1beta1Experiment") has no field for."""
    if model in _SCALARS:
        return []
    # Type names as the generated clients spell them: list[X] and dict(str, X), or, in
    # kubernetes 36 and newer, List[X] and Dict[str, X].
    if model.lower().startswith("list["):
        item = model[len("list[") : -1]
        return [
            p for i, v in enumerate(data or []) for p in unknown_fields(v, item, f"{path}[{i}]")
        ]
    if model.startswith(("dict(", "Dict[")):
        item = model[model.index(",") + 1 : -1].strip()
        return [p for k, v in (data or {}).items() for p in unknown_fields(v, item, f"{path}.{k}")]
    cls = model_class(model)
    by_json_name = {json_name: attr for attr, json_name in cls.attribute_map.items()}
    problems = []
    for key, value in (data or {}).items():
        if key not in by_json_name:
            problems.append(f"{path}.{key}")
        elif value is not None:
            problems += unknown_fields(value, cls.openapi_types[by_json_name[key]], f"{path}.{key}")
    return problems


def require_known_fields(obj: dict[str, Any], model: str) -> dict[str, Any]:
    """`obj` itself, once every field in it is one the SDK model `model` knows."""
    problems = unknown_fields(obj, model)
    if problems:
        raise ValueError(f"fields the {model} model does not have: {', '.join(problems)}")
    return obj


@functools.cache
def model_class(name: str) -> type:
    """The generated model class called `name`, from the Katib, training or Kubernetes SDK."""
    import kubernetes.client.models as kubernetes_models
    from kubeflow.katib import models as katib_models
    from kubeflow.training import models as training_models

    for module in (katib_models, training_models, kubernetes_models):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError(f"no SDK model named {name}")
