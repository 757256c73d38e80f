"""The one atomic file writer: a reader sees the old file or the new one, never half of one.

Used for everything this project writes into the repository (rendered/, definitions written by
`tune()`, results files). Files are 0644 like any file a person writes and commits: readable by
the other users of a shared checkout and by git, which keeps no other mode for them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644


def write_atomically(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` (text is written as UTF-8), creating its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = data.encode("utf-8") if isinstance(data, str) else data
    # mkstemp makes the file 0600 and beside its target, so os.replace stays on one filesystem.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
