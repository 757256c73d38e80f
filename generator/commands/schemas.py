"""`hpo schemas export DIR`: JSON schemas for the custom kinds, in kubeconform's layout.

kubeconform looks schemas up as `{{.ResourceKind}}{{.KindSuffix}}.json`, where the suffix is
`-<group>-<version>`, e.g. `experiment-kubeflow-v1beta1.json`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from generator.errors import ExitCode
from generator.validate.experiment_schema import EXPERIMENT_SCHEMA
from generator.validate.external_secret import external_secret_schema
from generator.validate.pytorchjob import pytorchjob_schema
from generator.validate.trainer_v2 import schemas as trainer_v2_schemas


def all_schemas() -> dict[str, dict]:
    """File name -> schema of every custom kind the project renders or ships."""
    trainer = trainer_v2_schemas()
    return {
        "experiment-kubeflow-v1beta1.json": EXPERIMENT_SCHEMA,
        "pytorchjob-kubeflow-v1.json": pytorchjob_schema(),
        "trainjob-trainer-v1alpha1.json": trainer["TrainJob"],
        "clustertrainingruntime-trainer-v1alpha1.json": trainer["ClusterTrainingRuntime"],
        "externalsecret-external-secrets-v1.json": external_secret_schema(),
    }


def export_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def schemas_export(args: argparse.Namespace) -> int:
    for path in export_schemas(Path(args.directory)):
        print(f"wrote {path}")
    return ExitCode.OK
