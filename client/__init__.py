"""`KatibClient` for notebooks: Katib's `tune()` and the calls after it, GitOps-style.

    from client import KatibClient   # instead of: from kubeflow.katib import KatibClient

`tune()` writes `experiments/<name>/experiment.yaml` and its rendered manifests after the checks
`hpo check` runs, and can open their pull request; the read methods answer from the repository
and the cluster. Nothing here creates anything on a cluster: a merged pull request does.
"""

from client import search
from client.errors import ClientError
from client.katib_client import DefinitionInvalid, DefinitionWarning, KatibClient, TuneResult
from client.params import (
    HuggingFaceDatasetParams,
    HuggingFaceModelParams,
    HuggingFaceTrainerParams,
    S3DatasetParams,
    secret,
    tune_arguments,
    with_search,
)
from client.publish import PullRequestOutcome

__all__ = [
    "ClientError",
    "DefinitionInvalid",
    "DefinitionWarning",
    "HuggingFaceDatasetParams",
    "HuggingFaceModelParams",
    "HuggingFaceTrainerParams",
    "KatibClient",
    "PullRequestOutcome",
    "S3DatasetParams",
    "TuneResult",
    "search",
    "secret",
    "tune_arguments",
    "with_search",
]
