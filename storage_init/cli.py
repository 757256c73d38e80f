"""`python -m storage_init {model,dataset} ...`: a thin argparse wrapper over `fetch`.

stdout carries one thing, the final folder on the last line, so a caller can capture it. Logs and
progress go to stderr. Every failure is one `error: ...` line and an exit code per error class
(`storage_init.exits`), never a traceback for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from .cache import Source
from .errors import redact
from .exits import ExitCode, run_entry_point
from .fetch import fetch


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see python -m storage_init {self._kind()}--help)\n")
        raise SystemExit(ExitCode.USAGE)

    def _kind(self) -> str:
        words = self.prog.split()
        return f"{words[-1]} " if words[-1] in ("model", "dataset") else ""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m storage_init",
        description="Fetch one model or dataset into the content-addressed cache.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    for kind in ("model", "dataset"):
        sub = kinds.add_parser(kind, help=f"fetch a {kind}")
        sub.add_argument("--uri", required=True, help="hf://ORG/NAME, s3://BUCKET/KEY, or a path")
        sub.add_argument("--revision", help="Hub branch, tag or commit (hf:// only)")
        sub.add_argument("--endpoint-url", help="S3-compatible endpoint (s3:// only)")
        sub.add_argument("--region", help="S3 region name")
        if kind == "dataset":
            sub.add_argument("--split", required=True, help="e.g. train[:1000], train[:90%%]")
            sub.add_argument("--eval-split", help="saved as the eval split, e.g. test[:200]")
        sub.add_argument("--cache-dir", required=True, help="e.g. /workspace/cache")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Our own lines at INFO; the SDKs' per-request chatter only from WARNING up.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="storage-init: %(message)s", force=True
    )
    logging.getLogger("storage_init").setLevel(logging.INFO)

    def fetch_and_print() -> None:
        source = Source(
            uri=args.uri,
            revision=args.revision,
            endpoint_url=args.endpoint_url,
            split=getattr(args, "split", None),
            eval_split=getattr(args, "eval_split", None),
        )
        # A folder is only ever published complete, so an interrupted fetch leaves none behind.
        print(fetch(args.kind, source, args.cache_dir, region=args.region), flush=True)

    return run_entry_point(fetch_and_print, redact=redact)
