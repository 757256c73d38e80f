"""Write results.yaml, report.md and the chart into an experiment's folder.

Shared by the cluster results job and `hpo tune --local`; knows nothing about Kubernetes or git.
Everything is rendered in memory first and then each file is replaced atomically, so a failure
never leaves a half-written set; files whose bytes did not change are left untouched.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from results.chart import render_chart
from results.errors import ResultsWriteError
from results.model import ExperimentResult
from results.render import CHART_FILE, report_markdown, results_yaml

RESULTS_FILE = "results.yaml"
REPORT_FILE = "report.md"
OUTPUT_FILES = (RESULTS_FILE, REPORT_FILE, CHART_FILE)


def definition_sha256(definition: str | bytes) -> str:
    """sha256 of experiment.yaml's bytes (text is encoded as UTF-8, as it is stored)."""
    data = definition.encode("utf-8") if isinstance(definition, str) else definition
    return hashlib.sha256(data).hexdigest()


def render_files(result: ExperimentResult, definition: str | bytes) -> dict[str, bytes]:
    """File name -> bytes, for every file the writer produces."""
    digest = definition_sha256(definition)
    return {
        RESULTS_FILE: results_yaml(result, digest).encode("utf-8"),
        REPORT_FILE: report_markdown(result, digest).encode("utf-8"),
        CHART_FILE: render_chart(result),
    }


def _replace_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_results(
    experiment_dir: str | os.PathLike[str], result: ExperimentResult, definition_text: str | bytes
) -> list[Path]:
    """Write the results files into `experiment_dir`; returns their paths (in a fixed order).

    `definition_text` is the content of the experiment's experiment.yaml, hashed into the
    provenance so a reader can tell which definition produced these results.
    """
    folder = Path(experiment_dir)
    if not folder.is_dir():
        raise ResultsWriteError(f"{folder}: the experiment folder does not exist")
    return write_rendered(folder, render_files(result, definition_text))


def write_rendered(
    experiment_dir: str | os.PathLike[str], rendered: dict[str, bytes]
) -> list[Path]:
    """Write what `render_files` produced (rendering once serves several attempts)."""
    folder = Path(experiment_dir)
    if not folder.is_dir():
        raise ResultsWriteError(f"{folder}: the experiment folder does not exist")
    paths = []
    for name in OUTPUT_FILES:
        path = folder / name
        try:
            if not (path.is_file() and path.read_bytes() == rendered[name]):
                _replace_atomically(path, rendered[name])
        except OSError as e:
            raise ResultsWriteError(f"{path}: cannot write: {e.strerror or e}") from e
        paths.append(path)
    return paths
