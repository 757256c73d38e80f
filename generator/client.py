"""The notebook client's former home: `from generator.client import KatibClient` still works."""

from client import (
    ClientError,
    DefinitionInvalid,
    DefinitionWarning,
    HuggingFaceDatasetParams,
    HuggingFaceModelParams,
    HuggingFaceTrainerParams,
    KatibClient,
    OptimalHyperparameters,
    PullRequestOutcome,
    S3DatasetParams,
    TuneResult,
    search,
    secret,
    tune_arguments,
    with_search,
)

__all__ = [
    "ClientError",
    "DefinitionInvalid",
    "DefinitionWarning",
    "HuggingFaceDatasetParams",
    "HuggingFaceModelParams",
    "HuggingFaceTrainerParams",
    "KatibClient",
    "OptimalHyperparameters",
    "PullRequestOutcome",
    "S3DatasetParams",
    "TuneResult",
    "search",
    "secret",
    "tune_arguments",
    "with_search",
]
