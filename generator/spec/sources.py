"""Where a model and a dataset come from: the provider parameters of `tune()`, and their URIs.

A model is `hf://ORG/NAME`, `s3://BUCKET/PREFIX` or a local folder; a dataset is a Hub repo id
(with or without `hf://`), a local path, or an S3 object or prefix. `source_uri` is the URI the
download Job fetches and the results record, written by `storage_init.references`, which also
judges every reference (`hpo check`, through generator.checks.sources).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictInt, StrictStr, Tag

from generator.spec.base import Credential, Strict
from storage_init.references import (  # noqa: F401 (HUB_SCHEME, LOCAL_PREFIXES, is_local_path: former home)
    HUB_SCHEME,
    LOCAL_PREFIXES,
    dataset_uri,
    is_local_path,
    s3_uri,
)
from trainer.catalog import TASKS

TransformerType = Literal[
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
    "AutoModelForCausalLM",
    "AutoModelForMaskedLM",
    "AutoModelForImageClassification",
]
assert set(TransformerType.__args__) == set(TASKS)  # one list of tasks, shared with the trainer


class ModelParams(Strict):
    """`HuggingFaceModelParams`, plus revision pinning and S3 model locations."""

    model_uri: StrictStr = Field(min_length=1)
    transformer_type: TransformerType
    access_token: Credential | None = None
    num_labels: StrictInt | None = Field(default=None, ge=1)
    revision: StrictStr | None = None
    # Only for s3:// model URIs.
    endpoint_url: StrictStr | None = None
    region_name: StrictStr | None = None
    access_key: Credential | None = None
    secret_key: Credential | None = None

    @property
    def source_uri(self) -> str:
        return self.model_uri


class HuggingFaceDatasetParams(Strict):
    """`HuggingFaceDatasetParams`; `repo_id` may also be a local path (./data, /data)."""

    repo_id: StrictStr = Field(min_length=1)
    access_token: Credential | None = None
    split: StrictStr = "train"
    revision: StrictStr | None = None
    eval_split: StrictStr | None = None

    @property
    def source_uri(self) -> str:
        """A local path as written; a Hub repo id with its scheme, written with it or not."""
        return dataset_uri(self.repo_id)


class S3DatasetParams(Strict):
    """`S3DatasetParams`: one object (CSV, JSON/JSONL, Parquet) or a prefix."""

    endpoint_url: StrictStr = Field(min_length=1)
    bucket_name: StrictStr = Field(min_length=1)
    file_key: StrictStr = Field(min_length=1)
    region_name: StrictStr | None = None
    access_key: Credential | None = None
    secret_key: Credential | None = None
    split: StrictStr = "train"
    eval_split: StrictStr | None = None

    @property
    def source_uri(self) -> str:
        return s3_uri(self.bucket_name, self.file_key)

    @property
    def revision(self) -> None:
        """S3 objects have no revision to pin in a definition."""
        return None


def _dataset_kind(value: Any) -> str:
    # Loading hands over mappings, serialising the models themselves.
    if isinstance(value, S3DatasetParams) or isinstance(value, dict) and "bucket_name" in value:
        return "s3"
    return "hf"


DatasetParams = Annotated[
    Annotated[HuggingFaceDatasetParams, Tag("hf")] | Annotated[S3DatasetParams, Tag("s3")],
    Discriminator(_dataset_kind),
]
