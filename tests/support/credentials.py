"""Credentials for tests: synthetic, obviously fake, but shaped like the real thing.

Each is put together at import time, so the repository holds no string a secret scanner (ours or
a forge's) would take for a token. `SECRETS` are what must be found; `LOOK_ALIKES` are strings
from this project's own files and Katib's that resemble credentials and must pass.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

FAKE = "FAKE"


@dataclass(frozen=True)
class Credential:
    name: str
    value: str  # the string as written
    secret: str  # the part that must never be printed
    kind: str  # words the scanner's message uses for it


def _random_text(length: int, seed: int) -> str:
    """Random letters and digits, the shape of a generated API key (never a real one)."""
    return "".join(random.Random(seed).choices(string.ascii_letters + string.digits, k=length))


FILLER = "FakeTokenForTests"  # 17 letters
HF_TOKEN = "hf" + "_" + FILLER * 2  # hf_ and 34 letters
AWS_KEY_ID = "AK" + "IA" + "FAKEKEYFORTESTS1"  # AKIA and 16 upper-case letters or digits
AWS_SECRET = (FAKE.title() + "AwsSigningValueForTests0" * 2)[:40]  # 40 base64 characters
GITHUB_TOKEN = "gh" + "p_" + FILLER * 2 + "xy"  # ghp_ and 36 letters
GITHUB_FINE_GRAINED = "github" + "_pat_" + "11" + FAKE + FILLER + "_" + FILLER * 3
GITLAB_TOKEN = "gl" + "pat-" + "FakeToken-ForTests-x"
PRIVATE_KEY = (
    "-----BEGIN " + "OPENSSH PRIVATE KEY-----\n" + FAKE + "\n-----END OPENSSH PRIVATE KEY-----\n"
)
URL_PASSWORD = "fake" + "-pass-" + "word"
RANDOM_KEY = _random_text(40, seed=7)  # what a generated API key looks like

SECRETS = [
    Credential("hf-token", HF_TOKEN, HF_TOKEN, "Hugging Face"),
    Credential("hf-token-in-argument", "--token=" + HF_TOKEN, HF_TOKEN, "Hugging Face"),
    Credential("aws-key-id", AWS_KEY_ID, AWS_KEY_ID, "AWS access key id"),
    Credential("github-classic", GITHUB_TOKEN, GITHUB_TOKEN, "GitHub"),
    Credential("github-fine-grained", GITHUB_FINE_GRAINED, GITHUB_FINE_GRAINED, "GitHub"),
    Credential("gitlab", GITLAB_TOKEN, GITLAB_TOKEN, "GitLab"),
    Credential("private-key", PRIVATE_KEY, PRIVATE_KEY, "private key"),
    Credential(
        "url-password",
        "https://builder:" + URL_PASSWORD + "@git.example.com/acme/repo.git",
        URL_PASSWORD,
        "password in a URL",
    ),
    Credential(
        "aws-pair-in-url",
        "https://" + AWS_KEY_ID + ":" + AWS_SECRET + "@minio.example.com",
        AWS_SECRET,
        "password in a URL",
    ),
]

# Strings that look a little like credentials and are not: each must pass the scanner.
COMMIT = "4e20de362430cd3b72f300e6b0f18e50e7166e08"
DIGEST = "sha256:" + "0123456789abcdef" * 4
LOOK_ALIKES = [
    ("commit-sha", COMMIT),
    ("image-digest", "ghcr.io/example-org/hpo-trainer@" + DIGEST),
    ("sha256-hex", "d223d39c632617fda00476fdcf7bc581cfe1c746cea5516016156a5d36283bc4"),
    ("json64-argument", "target_modules:json64=WyJxX3Byb2oiLCJ2X3Byb2oiXQ"),
    ("json64-value", "WyJxX3Byb2oiLCJ2X3Byb2oiXQ"),
    ("cache-key", "/workspace/cache/models/57a69fff176678f9"),
    ("cache-folder", "hf-meta-llama-llama-3-2-1b-" + COMMIT),
    ("uid", "3f1c2a9e-8d4b-4c1e-9a57-2b6f0d7e4c11"),
    ("hub-uri", "hf://meta-llama/Llama-3.2-1B"),
    ("model-name", "sentence-transformers/all-MiniLM-L6-v2"),
    ("long-model-name", "distilbert-base-uncased-finetuned-sst-2-english"),
    ("class-name", "AutoModelForSequenceClassification"),
    ("identifier", "TOKENIZERS_PARALLELISM_false_value_x"),
    ("hub-function", "hf_hub_download"),
    ("git-url", "https://github.com/example-org/llm-hpo-gitops.git"),
    ("ssh-url", "ssh://git@github.com/example-org/llm-hpo-gitops.git"),
    ("scp-url", "git@github.com:example-org/llm-hpo-gitops.git"),
    ("url-with-port", "http://minio.example.com:9000/bucket@v2"),
    ("url-variable-password", "https://builder:$(GIT_TOKEN)@git.example.com/acme/repo.git"),
    ("katib-placeholder", "--lr=${trialParameters.learningRate}"),
    ("region", "ap-southeast-1"),
    ("split", "train[:1000]"),
    ("timestamp", "2025-05-01T10:00:00Z"),
    ("public-key", "-----BEGIN PUBLIC KEY-----"),
]
