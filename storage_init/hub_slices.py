"""Hub datasets: fetch only the Parquet shards that a sliced split reads.

`train[:1000]` of a dataset of a hundred shards needs the first shard or two, not the hundred.
The split's files are found the way `datasets` finds them in a downloaded snapshot (its default
patterns, applied to the repo's file listing), row counts come from the Parquet footers (a byte
range at the end of each shard, read in order and only as far as the slice needs, or all of the
split's for a percentage or a negative index), and the slice is rewritten to the same rows of the
shards fetched. Anything this cannot reproduce exactly falls back to the whole repo: a README
with its own `configs`, `.huggingface.yaml`, a data file that is not Parquet, a split the repo
does not have, an empty slice, or HF_HUB_OFFLINE.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from .errors import from_hub
from .hub import DATASET_IGNORE_PATTERNS, link_or_copy, repo_folder
from .progress import Progress, folder_size
from .retry import RetryPolicy, with_retries

log = logging.getLogger("storage_init")
CARD = "README.md"
STANDALONE_YAML = ".huggingface.yaml"
TAIL_BYTES = 16 << 10  # most footers fit; a larger one costs a second range request


@dataclass(frozen=True)
class Sliced:
    """The shards fetched, linked at their repo paths into `folder`, and what to read there."""

    folder: Path
    expressions: dict[str, str]  # train / eval → the expression over the fetched shards
    files: list[str]  # repo paths fetched, the dataset card included


@dataclass
class _SplitRows:
    """Row counts of one split's shards, read from their footers in order, on demand."""

    files: list[str]
    read: Any  # path -> rows
    counts: list[int] = field(default_factory=list)

    def covering(self, row: int) -> int:
        """Rows in the shards read so far, reading on until they reach `row` or run out."""
        while sum(self.counts) < row and len(self.counts) < len(self.files):
            self.counts.append(self.read(self.files[len(self.counts)]))
        return sum(self.counts)

    def total(self) -> int:
        while len(self.counts) < len(self.files):
            self.counts.append(self.read(self.files[len(self.counts)]))
        return sum(self.counts)


def fetch_sliced(
    repo_id: str,
    commit: str,
    expressions: dict[str, str],
    hub_cache: Path,
    work: Path,
    policy: RetryPolicy,
) -> Sliced | None:
    """Fetch what `expressions` read of the dataset at `commit`, or None to fetch it whole."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return None
    sizes = _listing(repo_id, commit, policy)
    if STANDALONE_YAML in sizes:
        return None
    fetched = [CARD] if CARD in sizes else []
    if fetched and _card_has_configs(_download(repo_id, commit, CARD, hub_cache, policy)):
        return None
    splits = split_files(sizes)
    if splits is None:
        return None
    reader = _FooterReader(repo_id, commit, sizes, policy)
    rows = {name: _SplitRows(files, reader.rows) for name, files in splits.items()}
    planned = plan_slices(expressions, rows)
    if planned is None:
        return None
    rewritten, needed = planned
    # The fetched shards alone must resolve to the same splits, in the same order.
    subset = split_files({path: sizes[path] for path in needed})
    expected = {n: [f for f in files if f in needed] for n, files in splits.items()}
    if subset != {n: files for n, files in expected.items() if files}:
        return None
    wanted = sorted(needed, key=lambda p: _order(p, splits))
    total = sum(sizes[p] for p in wanted)
    whole = sum(size for path, size in sizes.items() if path in _data_paths(sizes))
    log.info(
        "hf://%s: fetching %d of %d data files (%s of %s bytes) for %s; footers read: %d bytes",
        repo_id,
        len(wanted),
        len(_data_paths(sizes)),
        total,
        whole,
        ", ".join(expressions.values()),
        reader.bytes_read,
    )
    folder = work / "sliced"
    blobs = repo_folder(hub_cache, repo_id, "dataset") / "blobs"
    baseline = folder_size(blobs)
    with Progress(f"hf://{repo_id}", total, sample=lambda: max(0, folder_size(blobs) - baseline)):
        for path in fetched + wanted:
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            link_or_copy(_download(repo_id, commit, path, hub_cache, policy), target)
    return Sliced(folder, rewritten, fetched + wanted)


def split_files(sizes: dict[str, int]) -> dict[str, list[str]] | None:
    """Split name → data files in reading order, as `datasets` resolves a snapshot holding these
    paths; None unless every data file is Parquet."""
    from datasets.data_files import DataFilesDict, get_data_patterns
    from datasets.load import _ALL_ALLOWED_EXTENSIONS

    with tempfile.TemporaryDirectory(prefix="hpo-listing-") as temporary:
        skeleton = Path(temporary).resolve()
        for path in _data_paths(sizes) | ({CARD} & set(sizes)):
            (skeleton / path).parent.mkdir(parents=True, exist_ok=True)
            (skeleton / path).touch()
        try:
            patterns = get_data_patterns(str(skeleton))
            resolved = DataFilesDict.from_patterns(
                patterns, base_path=str(skeleton), allowed_extensions=_ALL_ALLOWED_EXTENSIONS
            )
        except Exception:  # no data files, or a layout datasets itself refuses
            return None
        prefix = skeleton.as_posix() + "/"
        mapping = {
            str(name): [str(f).removeprefix(prefix) for f in files]
            for name, files in resolved.items()
        }
    every = [f for files in mapping.values() for f in files]
    if not every or not all(f.endswith(".parquet") for f in every):
        return None
    return mapping


def plan_slices(
    expressions: dict[str, str], rows: dict[str, _SplitRows]
) -> tuple[dict[str, str], set[str]] | None:
    """(expressions over the needed shards, the needed shards), or None when a slice cannot be
    planned here (unknown split, unparsable or empty slice): `datasets` then says why."""
    import datasets

    ranges: list[tuple[str, str, int, int]] = []  # (name, split, from, to) over the whole split
    for name, expression in expressions.items():
        try:
            parts = datasets.ReadInstruction.from_spec(expression)._relative_instructions
        except Exception:
            return None
        for part in parts:
            split = rows.get(part.splitname)
            if split is None:
                return None
            start, end = _absolute(part, split)
            if start >= end:
                return None
            ranges.append((name, part.splitname, start, end))
    needed: dict[str, set[int]] = {}
    for _, split, start, end in ranges:
        bounds = _bounds(rows[split].counts)
        shards = {i for i, (low, high) in enumerate(bounds) if low < end and high > start}
        needed.setdefault(split, set()).update(shards)
    rewritten: dict[str, list[str]] = {}
    for name, split, start, end in ranges:
        counts, chosen = rows[split].counts, sorted(needed[split])
        first = min(i for i in chosen if _bounds(counts)[i][1] > start)
        offset = sum(counts[i] for i in chosen if i < first)
        begin = offset + start - _bounds(counts)[first][0]
        rewritten.setdefault(name, []).append(f"{split}[{begin}:{begin + end - start}]")
    files = {rows[split].files[i] for split, shards in needed.items() for i in shards}
    return {name: "+".join(parts) for name, parts in rewritten.items()}, files


def _absolute(part: Any, split: _SplitRows) -> tuple[int, int]:
    """The part's [from, to) in the whole split, as `datasets` computes it."""
    import datasets

    start = part.from_ or 0
    if part.unit == "abs" and start >= 0 and part.to is not None and part.to >= 0:
        available = split.covering(part.to)  # no need to count the shards past the slice
        end = min(part.to, available)
        return min(start, end), end
    total = split.total()
    instruction = datasets.ReadInstruction(
        part.splitname, rounding=part.rounding, from_=part.from_, to=part.to, unit=part.unit
    )
    [absolute] = instruction.to_absolute({part.splitname: total})
    return absolute.from_, absolute.to


def _bounds(counts: list[int]) -> list[tuple[int, int]]:
    bounds, low = [], 0
    for count in counts:
        bounds.append((low, low + count))
        low += count
    return bounds


def _order(path: str, splits: dict[str, list[str]]) -> tuple[int, int]:
    for position, files in enumerate(splits.values()):
        if path in files:
            return position, files.index(path)
    return len(splits), 0


def _data_paths(sizes: dict[str, int]) -> set[str]:
    """What the whole snapshot would hold but the card: loading scripts and .gitattributes out."""
    ignored = DATASET_IGNORE_PATTERNS + [CARD]
    return {p for p in sizes if not any(fnmatch(p, pattern) for pattern in ignored)}


def _card_has_configs(card: Path) -> bool:
    """Whether the dataset card's YAML header declares `configs` (its own data files)."""
    import yaml

    text = card.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return False
    header, _, rest = text[3:].partition("\n---")
    try:
        data = yaml.safe_load(header) if rest or header else None
    except yaml.YAMLError:
        return True  # unreadable: let datasets read the whole repo and decide
    return isinstance(data, dict) and "configs" in data


def _listing(repo_id: str, commit: str, policy: RetryPolicy) -> dict[str, int]:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    def attempt() -> dict[str, int]:
        try:
            tree = HfApi().list_repo_tree(
                repo_id, repo_type="dataset", revision=commit, recursive=True
            )
            return {e.path: e.size for e in tree if isinstance(e, RepoFile)}
        except Exception as error:
            raise from_hub(error, repo_id, "dataset", commit) from error

    return with_retries(policy, f"listing hf://{repo_id}@{commit}", attempt)


def _download(repo_id: str, commit: str, path: str, hub_cache: Path, policy: RetryPolicy) -> Path:
    from huggingface_hub import hf_hub_download

    def attempt() -> Path:
        try:
            return Path(
                hf_hub_download(
                    repo_id, path, repo_type="dataset", revision=commit, cache_dir=str(hub_cache)
                )
            )
        except Exception as error:
            raise from_hub(error, repo_id, "dataset", commit) from error

    return with_retries(policy, f"downloading hf://{repo_id}/{path}", attempt)


class _FooterReader:
    """Rows of a Parquet shard on the Hub from its footer: one or two byte-range requests."""

    def __init__(self, repo_id: str, commit: str, sizes: dict[str, int], policy: RetryPolicy):
        self.repo_id, self.commit, self.sizes, self.policy = repo_id, commit, sizes, policy
        self.bytes_read = 0

    def rows(self, path: str) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        size = self.sizes[path]
        tail = self._range(path, max(0, size - TAIL_BYTES), size)
        length = int.from_bytes(tail[-8:-4], "little") if tail[-4:] == b"PAR1" else -1
        if length < 0 or length + 8 > size:
            raise _not_parquet(self.repo_id, path)
        if length + 8 > len(tail):  # a large footer: read only the part still missing
            tail = self._range(path, size - length - 8, size - len(tail)) + tail
        footer = tail[len(tail) - length - 8 :]
        try:
            return pq.read_metadata(pa.BufferReader(b"PAR1" + footer)).num_rows
        except Exception as error:
            raise _not_parquet(self.repo_id, path) from error

    def _range(self, path: str, start: int, end: int) -> bytes:
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(self.repo_id, path, repo_type="dataset", revision=self.commit)
        headers = build_hf_headers() | {"Range": f"bytes={start}-{end - 1}"}

        def attempt() -> bytes:
            try:
                response = get_session().get(url, headers=headers, follow_redirects=True)
                hf_raise_for_status(response)
            except Exception as error:
                raise from_hub(error, self.repo_id, "dataset", self.commit) from error
            body = response.content
            return body if response.status_code == 206 else body[start:end]

        data = with_retries(self.policy, f"reading hf://{self.repo_id}/{path}", attempt)
        self.bytes_read += len(data)
        return data


def _not_parquet(repo_id: str, path: str) -> Exception:
    from .errors import InvalidSourceError

    return InvalidSourceError(f"hf://{repo_id}/{path} is not a readable Parquet file")
