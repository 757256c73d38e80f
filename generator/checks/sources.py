"""Checks of where a definition's model and dataset come from: URIs, revisions, credentials.

Each reference is read by the download Job's own parser (storage_init.references), so a definition
passes exactly when its download could start. Beyond that: a cluster cannot read this repository's
local paths; a Hub reference should be pinned to a commit for results that can be reproduced; S3
credentials come in pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.loading.repo_config import LOCAL_CLUSTER
from generator.spec import ExperimentSpec, S3DatasetParams
from storage_init.errors import InvalidReferenceError
from storage_init.references import (
    HUB_SCHEME,
    S3_SCHEME,
    is_local_path,
    parse_dataset_repo_id,
    parse_model_uri,
    parse_s3,
)
from trainer.catalog import TASKS

Finding = tuple[tuple, str, str]
# The definition's field for each part of an S3 reference the parser refuses.
S3_FIELDS = {"bucket": "bucket_name", "key": "file_key"}

COMMIT = re.compile(r"^[0-9a-f]{40}$")


def reference_findings(spec: ExperimentSpec) -> Iterator[Finding]:
    """The model's and the dataset's references as the download Job will read them: one error at
    the field that names each reference no fetch could use (storage_init.references), so a
    pull request is refused for exactly what the cluster's download would refuse."""
    model = spec.model_provider_parameters
    try:
        parse_model_uri(model.model_uri)
    except InvalidReferenceError as error:
        yield ("model_provider_parameters", "model_uri"), f"model_uri: {error}", "error"
    dataset = spec.dataset_provider_parameters
    try:
        if isinstance(dataset, S3DatasetParams):
            parse_s3(dataset.bucket_name, dataset.file_key)
        else:
            parse_dataset_repo_id(dataset.repo_id)
    except InvalidReferenceError as error:
        key = S3_FIELDS.get(error.part, "repo_id")
        yield ("dataset_provider_parameters", key), f"{key}: {error}", "error"


def check_sources(spec: ExperimentSpec) -> Iterator[Finding]:
    yield from reference_findings(spec)
    model = spec.model_provider_parameters
    uri = model.model_uri
    local_ok = spec.cluster == LOCAL_CLUSTER
    mloc = ("model_provider_parameters",)
    if is_local_path(uri) and not local_ok:
        yield (
            mloc + ("model_uri",),
            (
                f"model_uri: local path '{uri}' cannot be read by a cluster; use hf:// or "
                "s3://, or set "
                f"cluster: {LOCAL_CLUSTER} to run only with hpo tune --local"
            ),
            "error",
        )
    if uri.startswith(S3_SCHEME):
        yield from _key_pair(model, mloc)
    else:
        for key in ("endpoint_url", "region_name", "access_key", "secret_key"):
            if getattr(model, key) is not None:
                yield mloc + (key,), f"{key} applies only to s3:// model URIs", "error"
    if model.revision is not None and not uri.startswith(HUB_SCHEME):
        yield mloc + ("revision",), "revision applies only to hf:// models", "error"
    elif uri.startswith(HUB_SCHEME) and not (model.revision and COMMIT.match(model.revision)):
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
        yield from _key_pair(dataset, dloc)
    elif is_local_path(dataset.repo_id) and not local_ok:
        yield (
            dloc + ("repo_id",),
            (
                f"repo_id: local path '{dataset.repo_id}' cannot be read by a cluster; use a "
                f"Hub dataset or S3, or set cluster: {LOCAL_CLUSTER}"
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
