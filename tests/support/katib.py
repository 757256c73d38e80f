"""Katib objects as a v1beta1 API server returns them."""

from __future__ import annotations

from typing import Any


def experiment_with_conditions(
    name: str, version: int, *conditions: tuple[str, str], message: str = ""
) -> dict[str, Any]:
    """A bare Experiment whose status holds only `conditions`, each (type, "True"|"False")."""
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": name, "namespace": "kubeflow", "resourceVersion": str(version)},
        "status": {
            "conditions": [
                {"type": kind, "status": status, "reason": f"Experiment{kind}", "message": message}
                for kind, status in conditions
            ]
        },
    }
