"""Where an experiment is in its life, as the repository records it.

    proposed --merge--> running --results merged--> finished --hpo archive--> archived

- **finished**: `experiments/<name>/results.yaml` holds the Experiment's final status (the
  results Job's pull request was merged, or `hpo tune --local` wrote it). It holds no GPUs.
- **archived**: `experiments/<name>/archive.yaml` exists (written by `hpo archive`). Its cluster
  objects are deleted through Argo CD; the definition, results and report stay as its record.
  An unfinished experiment archived with --force is released first (stage `release`) and keeps
  its GPUs until its objects are deleted (stage `delete`).
- **proposed** or **running**: neither file. Git alone cannot tell whether Argo CD deployed it;
  `hpo status` compares with the branch Argo CD syncs, or reads the cluster.

Both files are read strictly: a results.yaml that does not fit its model does not make an
experiment finished (it keeps counting against its cluster's quota), and the reason is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from generator.errors import Problem
from generator.loading.model_errors import located_problems
from generator.loading.yamlload import YamlProblems, load_located
from generator.spec import Strict
from generator.spec.results_file import RESULTS_FILE, ResultsFile, ResultsFileError

ARCHIVE_FILE = "archive.yaml"

# What `hpo archive --force` let go of, recorded so the archive says it was asked for.
Forced = Literal["running", "retained_trials", "saved_adapters"]


class Stage(StrEnum):
    """How far an archive has gone. An Experiment is rendered with Prune=false,Delete=false
    and Argo CD reads those from the live object, so one that still carries them must first be
    released (rendered without them, and synced) before leaving rendered/ can delete it."""

    RELEASE = "release"  # objects still rendered, without the protection; Argo CD drops it
    DELETE = "delete"  # nothing rendered: Argo CD prunes every object of the experiment


class ArchiveRecord(Strict):
    """archive.yaml."""

    stage: Stage
    forced: list[Forced] = []

    def to_yaml(self) -> str:
        lines = [
            "# Written by `hpo archive`: this experiment's objects leave its cluster through "
            "Argo CD;",
            "# its definition, results and report stay here. docs/lifecycle.md says what each "
            "stage does.",
            f"stage: {self.stage.value}",
        ]
        if self.forced:
            lines.append(f"forced: [{', '.join(sorted(self.forced))}]")
        return "\n".join(lines) + "\n"


class State(StrEnum):
    PROPOSED = "proposed"
    RUNNING = "running"
    FINISHED = "finished"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Lifecycle:
    """What the experiment's folder says about its life; `problems` when a file is unreadable."""

    results: ResultsFile | None = None
    archive: ArchiveRecord | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.results is not None

    @property
    def archived(self) -> bool:
        return self.archive is not None

    @property
    def stage(self) -> Stage | None:
        """The archive's stage; None when it is not archived."""
        return None if self.archive is None else self.archive.stage

    @property
    def deleted(self) -> bool:
        """Archived as far as it goes: a record, nothing of it on a cluster."""
        return self.stage is Stage.DELETE

    @property
    def may_run_trials(self) -> bool:
        """Whether the experiment can still start trials, and so holds its GPUs. An unfinished
        experiment being archived runs until the release stage gives way to the delete one."""
        if self.finished:
            return False
        return self.stage in (None, Stage.RELEASE)

    def state(self, deployed: bool = True) -> State:
        """The state; `deployed` says whether Argo CD has the definition (when it is known)."""
        if self.archived:
            return State.ARCHIVED
        if self.finished:
            return State.FINISHED
        return State.RUNNING if deployed else State.PROPOSED


def read_archive(path: Path, shown: str) -> tuple[ArchiveRecord | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(shown, 1, 1, f"cannot read: {getattr(e, 'strerror', e)}")]
    return read_archive_text(text, shown)


def read_archive_text(text: str, shown: str) -> tuple[ArchiveRecord | None, list[Problem]]:
    """archive.yaml's text as its model, or the located reasons it is not one."""
    try:
        doc = load_located(text, shown)
    except YamlProblems as e:
        return None, list(e.problems)
    try:
        return ArchiveRecord.model_validate(doc.data), []
    except ValidationError as e:
        return None, located_problems(e, doc, ArchiveRecord)


def read_lifecycle(
    folder: Path, shown: str, name: str | None = None, on_cluster: bool = False
) -> Lifecycle:
    """The lifecycle files of an experiment folder (`shown` as it is printed, e.g.
    experiments/<name>). A results.yaml of another experiment is a problem, not a finish, and
    so, for an experiment that runs `on_cluster`, is one without the Experiment's uid: only the
    cluster's results Job, which releases the Experiment first, finishes it there."""
    problems: list[Problem] = []
    results = archive = None
    results_path = folder / RESULTS_FILE
    if results_path.is_file():
        where = f"{shown}/{RESULTS_FILE}"
        try:
            results = ResultsFile.read(results_path, where)
        except ResultsFileError as e:
            problems += e.problems
        if results is not None and name is not None and results.experiment != name:
            problems.append(
                Problem(
                    where,
                    1,
                    1,
                    f"experiment: '{results.experiment}' is not this folder's experiment "
                    f"'{name}': the results of another experiment do not finish this one",
                )
            )
            results = None
        if results is not None and on_cluster and results.provenance.experiment_uid is None:
            problems.append(
                Problem(
                    where,
                    1,
                    1,
                    "these results have no provenance.experiment_uid: hpo tune --local wrote "
                    "them, so they do not finish the experiment's run on its cluster (it keeps "
                    "its GPUs); keep local results out of the commit",
                    "warning",
                )
            )
            results = None
    if (folder / ARCHIVE_FILE).is_file():
        archive, found = read_archive(folder / ARCHIVE_FILE, f"{shown}/{ARCHIVE_FILE}")
        problems += found
    return Lifecycle(results, archive, problems)
