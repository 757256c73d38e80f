"""`python -m storage_init` as the download Job runs it: stdout, stderr, exit codes, progress."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage_init import Source, cache_folder, verify
from storage_init.exits import ExitCode
from storage_init.progress import Progress

from .conftest import REPO_ROOT, S3Bucket, run_cli

CSV = "text,label\n" + "".join(f"review {i},{i % 2}\n" for i in range(10))


class TestCliSuccess:
    """On success stdout holds exactly one line: the folder."""

    def test_local_dataset(self, tmp_path: Path) -> None:
        """The printed folder is the one cache_folder computes, and it is complete."""
        (tmp_path / "reviews.csv").write_text(CSV)
        result = run_cli(
            "dataset",
            "--uri",
            "reviews.csv",
            "--split",
            "train[:8]",
            "--eval-split",
            "train[8:]",
            "--cache-dir",
            "cache",
            cwd=tmp_path,
        )
        assert 0 == result.returncode, result.stderr
        source = Source(uri="reviews.csv", split="train[:8]", eval_split="train[8:]")
        expected = cache_folder("cache", "dataset", source)
        assert [str(expected)] == result.stdout.splitlines()
        verify(tmp_path / expected)

    def test_s3_model_with_endpoint_and_region(
        self, s3: S3Bucket, tmp_path: Path, tiny_model_dir: Path
    ) -> None:
        """The flags the generator renders for an S3 model."""
        s3.put_folder("models/tiny", tiny_model_dir)
        result = run_cli(
            "model",
            "--uri",
            f"s3://{s3.name}/models/tiny",
            "--endpoint-url",
            s3.endpoint,
            "--region",
            "us-east-1",
            "--cache-dir",
            str(tmp_path),
        )
        assert 0 == result.returncode, result.stderr
        assert "model.safetensors" in verify(result.stdout.splitlines()[-1])["files"]


class TestCliErrors:
    """Bad input is one `error:` line on stderr and a named exit code, never a traceback."""

    @pytest.mark.parametrize(
        ("args", "code", "line"),
        [
            (
                ["model", "--uri", "gs://bucket/model"],
                ExitCode.PROBLEMS,
                "error: gs://bucket/model: scheme gs:// is not supported; use hf://, s3:// or a "
                "path",
            ),
            (
                ["model", "--uri", "s3://bucket/model", "--revision", "main"],
                ExitCode.PROBLEMS,
                "error: revision applies to hf:// sources only, not s3://bucket/model",
            ),
            (
                ["dataset", "--uri", "data.csv"],
                ExitCode.USAGE,
                "error: the following arguments are required: --split (see python -m "
                "storage_init dataset --help)",
            ),
            (
                ["model", "--uri", "hf://acme/absent"],
                ExitCode.NOT_FOUND,
                "error: model acme/absent is not (completely) in the Hugging Face cache and "
                "HF_HUB_OFFLINE forbids downloading it: unset HF_HUB_OFFLINE or fill the cache "
                "first",
            ),
            (
                ["dataset", "--uri", "reviews.csv", "--split", "validation"],
                ExitCode.PROBLEMS,
                "error: split 'validation' cannot be read from reviews.csv: Unknown split "
                "\"validation\". Should be one of ['train']. (use a split name with an optional "
                "slice, e.g. train[:1000] or train[:90%])",
            ),
        ],
    )
    def test_one_line_and_exit_code(
        self, tmp_path: Path, args: list[str], code: int, line: str
    ) -> None:
        """The last stderr line is the error; nothing is printed on stdout."""
        (tmp_path / "reviews.csv").write_text(CSV)
        result = run_cli(*args, "--cache-dir", "cache", cwd=tmp_path)
        assert code == result.returncode
        assert line == result.stderr.splitlines()[-1]
        assert "" == result.stdout
        assert "Traceback" not in result.stderr
        assert 1 == sum(1 for text in result.stderr.splitlines() if text.startswith("error:"))

    def test_missing_local_path(self, tmp_path: Path) -> None:
        """NOT_FOUND for a path that does not exist, naming the directory it was read from."""
        result = run_cli("model", "--uri", "models/absent", "--cache-dir", "c", cwd=tmp_path)
        assert ExitCode.NOT_FOUND == result.returncode
        assert (
            f"error: local path models/absent does not exist (relative paths are read from "
            f"{tmp_path})"
        ) == result.stderr.splitlines()[-1]


class TestProgress:
    """Bytes and rate while downloading: plain log lines in a pod, one redrawn line on a TTY."""

    def test_plain_lines_when_not_on_a_terminal(self, s3: S3Bucket, tmp_path: Path) -> None:
        """While the object is held back, a line with bytes, total and rate keeps coming."""
        s3.put("big.csv", b"text,label\n" + b"x" * (3 << 20) + b",0\n")
        s3.proxy.hold_downloads()
        log = tmp_path / "stderr.log"
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "storage_init",
                    "dataset",
                    "--uri",
                    f"s3://{s3.name}/big.csv",
                ]
                + ["--endpoint-url", s3.endpoint, "--split", "train", "--cache-dir", str(tmp_path)],
                cwd=REPO_ROOT,
                env=dict(os.environ),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            waiting = "storage-init: s3://hpo-data: 1 files: 0 B of 3.0 MiB (0%) at 0 B/s"
            deadline = time.monotonic() + 60
            while log.read_text().count(waiting) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            s3.proxy.release_downloads()
            stdout, _ = process.communicate(timeout=60)
        text = log.read_text()
        assert 0 == process.returncode, text
        assert text.count(waiting) >= 2
        assert re.search(r"^storage-init: s3://hpo-data: 1 files: done, 3\.0 MiB in ", text, re.M)
        assert "\r" not in text

    def test_redrawn_line_on_a_terminal(self) -> None:
        """On a TTY the line is redrawn in place with a carriage return."""

        class Terminal(io.StringIO):
            def isatty(self) -> bool:
                return True

        screen = Terminal()
        with Progress("hf://acme/model", total=2048, stream=screen) as progress:
            progress.add(1024)
            time.sleep(0.7)
        assert "\r\x1b[Khf://acme/model: 1.0 KiB of 2.0 KiB (50%) at " in screen.getvalue()
        assert screen.getvalue().endswith("\r\x1b[K")
