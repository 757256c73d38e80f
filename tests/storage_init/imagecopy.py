"""Rebuild an image's /opt/hpo from a Dockerfile's COPY lines and import a module from it alone.

The images copy a subset of the repository; a module that imports a package left out of the
image only fails inside the container. Copying exactly what the COPY lines name into a folder and
importing from there (with the repository's editable install switched off) catches that on a
laptop.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_ROOT = PurePosixPath("/opt/hpo")

# Runs in the child: forget the editable install and the checkout, then import from the copy.
_IMPORT_ONLY_FROM_COPY = """
import importlib, sys
root, checkout, *modules = sys.argv[1:]
sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path[:] = [p for p in sys.path if p.rstrip("/") != checkout]
for module in modules:
    loaded = importlib.import_module(module)
    assert loaded.__file__.startswith(root), f"{module} came from {loaded.__file__}"
"""


def copy_lines(dockerfile: Path) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY instruction, flags such as --chown left out."""
    copies = []
    for line in dockerfile.read_text().splitlines():
        if not line.upper().startswith("COPY "):
            continue
        words = shlex.split(line, comments=True)
        paths = [w for w in words[1:] if not w.startswith("--")]
        copies.append((paths[:-1], paths[-1]))
    return copies


def build_image_tree(dockerfile: Path, target: Path) -> None:
    """Copy what the Dockerfile copies into `target`, which stands for /opt/hpo."""
    for sources, destination in copy_lines(dockerfile):
        dest = PurePosixPath(destination)
        if dest.is_absolute():
            dest = dest.relative_to(IMAGE_ROOT)
        into_folder = destination.endswith("/") or len(sources) > 1
        for source in sources:
            origin = REPO_ROOT / source
            where = target / dest / origin.name if into_folder else target / dest
            where.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, where, dirs_exist_ok=True)
            else:
                shutil.copy2(origin, where)


def import_in_image_tree(
    dockerfile: Path, target: Path, *modules: str
) -> subprocess.CompletedProcess:
    """Import `modules` in a fresh interpreter that sees only the image's copy of the project."""
    build_image_tree(dockerfile, target)
    return subprocess.run(
        [sys.executable, "-c", _IMPORT_ONLY_FROM_COPY, str(target), str(REPO_ROOT), *modules],
        cwd=target,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(target), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
