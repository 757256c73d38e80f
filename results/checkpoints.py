"""An `hpo-asha` experiment's checkpoints, removed once it has finished.

A rung's trial resumes its configuration from the checkpoint the rung below left on the volume
(`checkpoints/<experiment>/config-<id>/rung-<k>/`, docs/interfaces.md). Once the experiment has
finished no trial resumes any of them, and together they can take many GiB of the volume. The
results Job (on a cluster) and `hpo tune --local` (on this machine) empty the experiment's own
folder, never the folder above it, which experiments sharing a claim share.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def remove_checkpoints(folder: Path) -> int:
    """Remove everything inside `folder`, one experiment's checkpoints; the folder stays (on a
    cluster it is the mount point). How many entries were removed; 0 when there is no folder."""
    if not folder.is_dir():
        return 0
    removed = 0
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        removed += 1
    return removed
