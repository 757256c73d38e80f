"""Checks of where a definition's model and dataset come from: URIs, revisions, credentials.

A cluster cannot read this repository's local paths; a Hub reference should be pinned to a commit
for results that can be reproduced; S3 credentials come in pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.loading.repo_config import LOCAL_CLUSTER
from generator.spec import ExperimentSpec, S3DatasetParams, is_local_path
from trainer.catalog import TASKS

Finding = tuple[tuple, str, str]

HF_MODEL = re.compile(r"^hf://[\w.-]+(/[\w.-]+)?$")
HF_DATASET = re.compile(r"^(hf://)?[\w.-]+(/[\w.-]+)?$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def check_sources(spec: ExperimentSpec) -> Iterator[Finding]:
    model = spec.model_provider_parameters
    uri = model.model_uri
    local_ok = spec.cluster == LOCAL_CLUSTER
    mloc = ("model_provider_parameters",)
    if is_local_path(uri):
        if not local_ok:
            yield (
                mloc + ("model_uri",),
                (
                    f"model_uri: local path '{uri}' cannot be read by a cluster; use hf:// or "
                    "s3://, or set "
                    f"cluster: {LOCAL_CLUSTER} to run only with hpo tune --local"
                ),
                "error",
            )
    elif uri.startswith("s3://"):
        if not S3_URI.match(uri):
            yield (
                mloc + ("model_uri",),
                f"model_uri '{uri}' is not a valid s3://BUCKET/PREFIX URI",
                "error",
            )
    elif not HF_MODEL.match(uri):
        hint = f"; did you mean 'hf://{uri}'?" if HF_DATASET.match(uri) else ""
        yield (
            mloc + ("model_uri",),
            (
                f"model_uri '{uri}' must be hf://ORG/NAME, s3://BUCKET/PREFIX or a local path "
                f"starting with /, ./ or ../{hint}"
            ),
            "error",
        )
    if uri.startswith("s3://"):
        yield from _key_pair(model, mloc)
    else:
        for key in ("endpoint_url", "region_name", "access_key", "secret_key"):
            if getattr(model, key) is not None:
                yield mloc + (key,), f"{key} applies only to s3:// model URIs", "error"
    if model.revision is not None and not uri.startswith("hf://"):
        yield mloc + ("revision",), "revision applies only to hf:// models", "error"
    elif uri.startswith("hf://") and not (model.revision and COMMIT.match(model.revision)):
        yield (
            mloc + ("revision",),
            ("model revision is not pinned to a commit: results may not be reproducible"),
            "warning",
        )
    task = TASKS[model.transformer_type]
    if task.needs_num_labels and model.num_labels is None:
        yield (
            mloc + ("transformer_type",),
            (
                "num_labels is not set: the trainer counts the classes in the train split "
                "(set it when that split may miss a class)"
            ),
            "warning",
        )
    if not task.needs_num_labels and model.num_labels is not None:
        yield (
            mloc + ("num_labels",),
            f"num_labels does not apply to {model.transformer_type}",
            "error",
        )

    dataset = spec.dataset_provider_parameters
    dloc = ("dataset_provider_parameters",)
    if isinstance(dataset, S3DatasetParams):
        if not dataset.endpoint_url.startswith(("https://", "http://")):
            yield (
                dloc + ("endpoint_url",),
                "endpoint_url must start with https:// or http://",
                "error",
            )
        if dataset.file_key.startswith("/"):
            yield (
                dloc + ("file_key",),
                "file_key is a key inside the bucket: no leading '/'",
                "error",
            )
        yield from _key_pair(dataset, dloc)
    elif is_local_path(dataset.repo_id):
        if not local_ok:
            yield (
                dloc + ("repo_id",),
                (
                    f"repo_id: local path '{dataset.repo_id}' cannot be read by a cluster; use a "
                    f"Hub dataset or S3, or set cluster: {LOCAL_CLUSTER}"
                ),
                "error",
            )
    elif not HF_DATASET.match(dataset.repo_id):
        yield (
            dloc + ("repo_id",),
            (
                f"repo_id '{dataset.repo_id}' must be a Hub dataset (NAME or ORG/NAME) "
                f"or a local path "
                "starting with /, ./ or ../"
            ),
            "error",
        )
    for key in ("split", "eval_split"):
        split = getattr(dataset, key)
        if split is not None and not re.match(r"^[\w.-]+(\[[-\d%:]*\])?$", split):
            yield (
                dloc + (key,),
                f"{key} '{split}' is not a split expression such as train, train[:1000] or "
                "test[:10%]",
                "error",
            )
    if dataset.eval_split is not None and dataset.eval_split == dataset.split:
        yield dloc + ("eval_split",), "eval_split must differ from split (held-out data)", "error"


def _key_pair(location, loc: tuple) -> Iterator[Finding]:
    if (location.access_key is None) != (location.secret_key is None):
        yield loc, "access_key and secret_key go together: set both or neither", "error"
