"""`python -m trainer`: parse, train, and turn every expected failure into one line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from generator.errors import ExitCode, HpoError
from trainer import distributed
from trainer.config import parse_args


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = parse_args(sys.argv[1:] if argv is None else argv)
        # Trials never download: the storage-init Job fetched everything into the volume.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.update(distributed.single_process_env(os.environ))
        from trainer.recipe import run  # torch and transformers load only for a valid command

        run(config)
    except HpoError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return int(e.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        return int(ExitCode.STAGE_FAILED)
    return int(ExitCode.OK)
