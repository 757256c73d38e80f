"""Bytes a sliced Hub split fetches, against the shards its rows live in and the whole dataset.

Builds a Hub-style dataset locally (`data/{train,test}-NNNNN-of-NNNNN.parquet`, written with
pyarrow, reviews of a few hundred random words each, so compression is realistic), serves it
with the test suite's fake Hub (tests/storage_init/hubserver.py, which honours byte ranges and
counts every byte it sends), and runs `python -m storage_init dataset` once per split expression
into a fresh cache. For each it prints the bytes served (shards downloaded, footers read, API
answers and the card), the bytes of the shards the sliced rows live in (what any fetch must
download), and the size of the whole dataset, which is what a snapshot download fetched before.

    python benchmarks/split_fetch.py [--train-rows 100000] [--train-shards 10] [--words 220]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.storage_init.hubserver import FakeHub  # noqa: E402

REPO = "bench/reviews"
EXPRESSIONS = [
    ("train[:1000]", None),
    ("train[:10%]", "test[:5%]"),
    ("train[45000:46000]", None),
    ("train[-2000:]", None),
    ("train[:90%]", "train[90%:]"),
]


def shard_bytes(rng: random.Random, start: int, rows: int, words: int, vocabulary: list[str]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    lengths = [rng.randint(words // 2, words * 3 // 2) for _ in range(rows)]
    texts = [" ".join(rng.choices(vocabulary, k=length)) for length in lengths]
    table = pa.table({"text": texts, "label": [(start + i) % 2 for i in range(rows)]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=1000)
    return buffer.getvalue()


def build(train_rows: int, train_shards: int, test_rows: int, test_shards: int, words: int):
    """Repo files, and per split the row count of each shard in reading order."""
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(20000)]
    files = {"README.md": b"---\nlicense: mit\n---\n# benchmark reviews\n"}
    rows = {}
    for split, total, count in (
        ("train", train_rows, train_shards),
        ("test", test_rows, test_shards),
    ):
        sizes = [total // count + (1 if i < total % count else 0) for i in range(count)]
        start = 0
        for index, size in enumerate(sizes):
            name = f"data/{split}-{index:05d}-of-{count:05d}.parquet"
            files[name] = shard_bytes(rng, start, size, words, vocabulary)
            start += size
        rows[split] = sizes
    return files, rows


def needed_bytes(files: dict, rows: dict, expressions: list[str]) -> int:
    """Bytes of the shards holding the rows the expressions select (datasets' own rounding)."""
    import datasets

    needed = set()
    for expression in expressions:
        totals = {split: sum(sizes) for split, sizes in rows.items()}
        for part in datasets.ReadInstruction.from_spec(expression).to_absolute(totals):
            low = 0
            for index, size in enumerate(rows[part.splitname]):
                if low < part.to and low + size > part.from_:
                    count = len(rows[part.splitname])
                    needed.add(f"data/{part.splitname}-{index:05d}-of-{count:05d}.parquet")
                low += size
    return sum(len(files[name]) for name in needed)


def fetch(hub: FakeHub, scratch: Path, split: str, eval_split: str | None) -> tuple[float, str]:
    cache = Path(tempfile.mkdtemp(dir=scratch))
    env = dict(os.environ)
    env |= {
        "HF_ENDPOINT": hub.url,
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_CACHE": str(cache / "hub"),
        "HF_DATASETS_CACHE": str(cache / "datasets-cache"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "storage_init", "dataset", "--uri", f"hf://{REPO}"]
    command += ["--split", split] + (["--eval-split", eval_split] if eval_split else [])
    started = time.monotonic()
    done = subprocess.run(
        command + ["--cache-dir", str(cache)], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.monotonic() - started, done.stderr


def mib(count: int) -> str:
    return f"{count / (1 << 20):.2f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--train-shards", type=int, default=10)
    parser.add_argument("--test-rows", type=int, default=20_000)
    parser.add_argument("--test-shards", type=int, default=4)
    parser.add_argument("--words", type=int, default=220, help="words per review")
    args = parser.parse_args()

    files, rows = build(
        args.train_rows, args.train_shards, args.test_rows, args.test_shards, args.words
    )
    whole = sum(len(data) for name, data in files.items() if name.endswith(".parquet"))
    print(
        f"dataset: {sum(rows['train'])} train rows in {len(rows['train'])} shards, "
        f"{sum(rows['test'])} test rows in {len(rows['test'])} shards, {mib(whole)} of Parquet\n"
    )
    print(
        "| split / eval split | fetched | of which shards | footers + API + card | needed "
        "(shards the rows live in) | whole dataset | fetched / needed | seconds |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    hub = FakeHub(REPO, files, repo_type="dataset")
    try:
        with tempfile.TemporaryDirectory(prefix="split-fetch-") as scratch:
            for split, eval_split in EXPRESSIONS:
                hub.bytes_served, hub.calls = 0, []
                seconds, _ = fetch(hub, Path(scratch), split, eval_split)
                downloaded = sum(
                    len(files[path])
                    for path in hub.fetched(".parquet")
                    if " " not in path  # whole files, not footer ranges
                )
                needed = needed_bytes(files, rows, [e for e in (split, eval_split) if e])
                served = hub.bytes_served
                print(
                    f"| `{split}`{f' / `{eval_split}`' if eval_split else ''} | {mib(served)} "
                    f"| {mib(downloaded)} | {mib(served - downloaded)} | {mib(needed)} "
                    f"| {mib(whole)} | {served / needed:.3f} | {seconds:.1f} |"
                )
    finally:
        hub.stop()


if __name__ == "__main__":
    main()
