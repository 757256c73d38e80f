"""Fixtures for the storage initializer tests.

- `isolated_env` (autouse): the Hub is offline and its cache is a throwaway folder, AWS
  credentials are test values, and nothing is read from the machine's own config files.
- `s3`: a moto server on 127.0.0.1 (started once) behind a counting, fault-injecting proxy, reset
  for each test, with one bucket.
- `tiny_model_dir`: a real BERT classifier built from a config and saved with save_pretrained
  (tests.support.tiny_models).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage_init.retry import RetryPolicy
from tests.support.tiny_models import tiny_bert

from .s3proxy import S3Proxy

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY_ID = "AKIAHPOTESTACCESSKEY"
SECRET_ACCESS_KEY = "s3-secret-value-that-must-never-be-printed"
HF_TOKEN_VALUE = "hf_tokenvaluethatmustneverbeprinted"
BUCKET = "hpo-data"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
CLEARED = ("HF_TOKEN", "HF_ENDPOINT", "AWS_PROFILE", "AWS_SESSION_TOKEN")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Offline Hub with an empty cache at <tmp>/hub-cache; test AWS credentials; fast progress."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    hub_cache = tmp_path / "hub-cache"
    settings = {
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(hub_cache),
        "HF_HOME": str(tmp_path / "hf-home"),
        "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "STORAGE_INIT_PROGRESS_SECONDS": "0.05",
        "PYTHONPATH": str(REPO_ROOT),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # huggingface_hub reads HF_HUB_OFFLINE once, at import; another test may have imported it.
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    return hub_cache


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_url() -> Any:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def s3_proxy(moto_url: str) -> Any:
    proxy = S3Proxy(int(moto_url.rsplit(":", 1)[1]))
    yield proxy
    proxy.stop()


def moto_api(moto_url: str, path: str, body: bytes = b"") -> dict:
    # Not form-encoded: moto reads the raw body (reset-auth takes a number).
    request = urllib.request.Request(
        f"{moto_url}/moto-api/{path}",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@dataclass
class S3Bucket:
    name: str
    endpoint: str  # the proxy: what the code under test talks to
    moto_url: str
    client: Any  # straight to moto: setup does not count as traffic
    proxy: S3Proxy

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def put_folder(self, prefix: str, folder: Path) -> None:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            self.put(f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes())


@pytest.fixture
def s3(moto_url: str, s3_proxy: S3Proxy, isolated_env: Path) -> S3Bucket:
    import boto3

    moto_api(moto_url, "reset")
    s3_proxy.reset()
    client = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return S3Bucket(BUCKET, s3_proxy.url, moto_url, client, s3_proxy)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """config.json, model.safetensors, tokenizer.json, tokenizer_config.json of a 2-label BERT."""
    model_dir = tmp_path_factory.mktemp("tiny-bert") / "model"
    return tiny_bert(
        model_dir, num_labels=2, hidden_size=16, layers=1, intermediate_size=32, max_positions=64
    )


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m storage_init ARGS` in a fresh process, with the (isolated) environment."""
    return subprocess.run(
        [sys.executable, "-m", "storage_init", *args],
        cwd=cwd or REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
