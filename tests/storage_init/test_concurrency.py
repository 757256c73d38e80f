"""Two download processes for the same key at once end with one complete folder."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from storage_init import verify

from .conftest import REPO_ROOT, S3Bucket

CSV = b"text,label\n" + b"".join(b"review %d,%d\n" % (i, i % 2) for i in range(10))
WAITING = "another process is fetching"


class TestConcurrentFetches:
    """The per-key lock makes the second process wait and then reuse the first one's folder."""

    def test_two_processes_one_download(self, s3: S3Bucket, tmp_path: Path) -> None:
        """The object is read once; both print the same complete folder; no temporary remains.

        The proxy holds the first process's object download until the second one reports that
        it is waiting on the lock, so the two runs are known to overlap.
        """
        s3.put("reviews.csv", CSV)
        s3.proxy.hold_downloads()
        command = [sys.executable, "-m", "storage_init", "dataset"]
        command += ["--uri", f"s3://{s3.name}/reviews.csv", "--endpoint-url", s3.endpoint]
        command += ["--split", "train", "--cache-dir", str(tmp_path / "cache")]
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        processes = [
            subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=dict(os.environ),
                stdout=subprocess.PIPE,
                stderr=log.open("w"),
                text=True,
            )
            for log in logs
        ]
        deadline = time.monotonic() + 90
        while not any(WAITING in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.05)
        s3.proxy.release_downloads()
        outputs = [process.communicate(timeout=90)[0] for process in processes]

        assert [0, 0] == [process.returncode for process in processes], [
            log.read_text() for log in logs
        ]
        folders = {output.splitlines()[-1] for output in outputs}
        assert 1 == len(folders)
        folder = Path(folders.pop())
        verify(folder, checksums=True)
        assert 1 == s3.proxy.count("GET", f"/{s3.name}/reviews.csv")
        assert sorted([folder.name, f".{folder.name}.lock"]) == sorted(
            p.name for p in folder.parent.iterdir()
        )
        assert 1 == sum("was fetched by another process" in log.read_text() for log in logs)
