"""Model and dataset references with the answer each must get, written out by hand.

The expected answers are the Hugging Face Hub's rule for repo ids and botocore's rule for bucket
names as they stand today. The tests assert both that our parser gives these answers and that the
libraries still do, so an upgrade that changes a rule fails a test instead of drifting silently.
"""

from __future__ import annotations

# (model_uri, the Hub accepts its repo id)
MODEL_URIS = [
    ("hf://meta-llama/Llama-3.2-1B", True),
    ("hf://gpt2", True),
    ("hf://Org_1/model.v2-final", True),
    ("hf://stanfordnlp/imdb", True),
    ("hf://a/" + "b" * 96, True),
    ("hf://-meta-llama/Llama-3.2-1B", False),  # leading '-'
    ("hf://meta--llama/Llama-3.2-1B", False),  # '--'
    ("hf://meta-llama/.Llama", False),  # leading '.'
    ("hf://meta-llama/Llama..1B", False),  # '..'
    ("hf://meta-llama/Llama-3.2-1B-", False),  # trailing '-'
    ("hf://meta-llama/Llama-3.2-1B.git", False),  # '.git' at the end
    ("hf://meta-llama/", False),  # the org alone
    ("hf://", False),  # nothing
    ("hf://meta-llama/Llama/3.2", False),  # a path inside a repo
    ("hf://meta-llama/Llama-3.2-1B@main", False),  # a revision belongs in `revision:`
    ("hf://café/modèle", False),  # ASCII only
    ("hf://a/" + "b" * 97, False),  # a name over 96 characters
]

# (dataset repo_id as written in a definition, the repo id the Hub is asked for, or None when
# the Hub refuses it)
DATASET_REPO_IDS = [
    ("stanfordnlp/imdb", "stanfordnlp/imdb"),
    ("imdb", "imdb"),
    ("hf://stanfordnlp/imdb", "stanfordnlp/imdb"),
    ("stanford--nlp/imdb", None),
    ("stanfordnlp/imdb.", None),
    ("hf://stanfordnlp/", None),
]

# (bucket name, botocore accepts it). botocore checks less than AWS does (no case rule, up to 255
# characters): what it accepts is what boto3 sends, and an S3-compatible store may accept more.
BUCKETS = [
    ("hpo-data", True),
    ("ml.datasets.2026", True),
    ("Legacy_Bucket", True),
    ("b" * 255, True),
    ("arn:aws:s3:us-west-2:123456789012:accesspoint:reviews", True),
    ("b" * 256, False),
    ("hpo data", False),
    ("hpo/data", False),
    ("", False),
]

# (key, accepted): S3 keys are 1 to 1024 bytes of UTF-8, read inside the bucket.
KEYS = [
    ("reviews.csv", True),
    ("reviews/2026-10/", True),
    ("k" * 1024, True),
    ("é" * 512, True),  # 1024 bytes
    ("", False),
    ("/reviews.csv", False),
    ("k" * 1025, False),
    ("é" * 513, False),  # 1026 bytes
]
