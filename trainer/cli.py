"""`python -m trainer`: parse, train, and turn every expected failure into one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from storage_init.exits import run_entry_point
from trainer import distributed
from trainer.config import parse_args


def main(argv: Sequence[str] | None = None) -> int:
    def train() -> None:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        # Trials never download: the storage-init Job fetched everything into the volume.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.update(distributed.single_process_env(os.environ))
        from trainer.recipe import run  # torch and transformers load only for a valid command

        run(config)

    return run_entry_point(train)
