"""Write results.yaml, report.md and the chart into an experiment's folder.

Shared by the cluster results job and `hpo tune --local`; knows nothing about Kubernetes or git.
Everything is rendered in memory first and then each file is replaced atomically, so a failure
never leaves a half-written set; files whose bytes did not change are left untouched.
"""

from __future__ import annotations

import os
from pathlib import Path

from generator.files import write_atomically
from generator.spec.results_file import RESULTS_FILE
from results.chart import render_chart
from results.errors import ResultsWriteError
from results.model import ExperimentResult, results_file
from results.render import CHART_FILE, report_markdown

REPORT_FILE = "report.md"
OUTPUT_FILES = (RESULTS_FILE, REPORT_FILE, CHART_FILE)


def render_files(result: ExperimentResult, definition_sha256: str) -> dict[str, bytes]:
    """File name -> bytes, for every file the writer produces. The report is rendered from
    results.yaml's model, so it says what the file holds; the chart orders the trials by when
    they completed, which the file does not keep."""
    record = results_file(result, definition_sha256)
    return {
        RESULTS_FILE: record.to_yaml().encode("utf-8"),
        REPORT_FILE: report_markdown(record).encode("utf-8"),
        CHART_FILE: render_chart(result),
    }


def write_results(
    experiment_dir: str | os.PathLike[str], result: ExperimentResult, definition_sha256: str
) -> list[Path]:
    """Write the results files into `experiment_dir`; returns their paths (in a fixed order).

    `definition_sha256` is the sha256 of the experiment.yaml that ran, recorded in the
    provenance so a reader can tell which definition produced these results.
    """
    folder = Path(experiment_dir)
    if not folder.is_dir():
        raise ResultsWriteError(f"{folder}: the experiment folder does not exist")
    return write_rendered(folder, render_files(result, definition_sha256))


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
                write_atomically(path, rendered[name])
        except OSError as e:
            raise ResultsWriteError(f"{path}: cannot write: {e.strerror or e}") from e
        paths.append(path)
    return paths
