"""The run's state: an Optuna study in SQLite under the work folder, one per experiment.

The study records; it does not choose: each trial is queued with the point the shared sampler
(suggestion.sampling, through local_runner.suggest) chose from this history.

Each Optuna trial carries what results.yaml needs as user attributes: its Katib-style name, the
strings the command received, its Katib status and its observed metrics; the objective's
reports are its intermediate values (the median stopping rule reads them back on resume). The
study records a fingerprint of the rendered experiment so that `--resume` refuses a run whose
definition changed, except for the three counts Katib also lets you change on a running
experiment.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass

from local_runner.errors import StudyStateError
from local_runner.workspace import Workspace

# Katib's webhook accepts changes to these on a running Experiment; so does --resume.
MUTABLE_FIELDS = ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount")
PREVIOUS_SUFFIX = ".previous"

# Trial user attributes.
NAME = "name"
ASSIGNMENTS = "assignments"
STATUS = "status"
METRICS = "metrics"
EXTREMES = "extremes"  # metric -> [latest, min, max]
SECONDS = "seconds"
INTERRUPTED = "interrupted"
RERUN_OF = "rerun_of"


def fingerprint(experiment: dict, download_job: dict) -> str:
    spec = {k: v for k, v in experiment["spec"].items() if k not in MUTABLE_FIELDS}
    pod = download_job["spec"]["template"]["spec"]
    downloads = [
        {"command": c.get("command"), "args": c.get("args")}
        for c in pod.get("initContainers", []) + pod["containers"]
    ]
    text = json.dumps({"spec": spec, "downloads": downloads}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class OpenedStudy:
    study: object  # optuna.Study
    resumed: bool
    archived: str | None  # where a previous run was moved, when starting over


def open_study(workspace: Workspace, expected: str, direction: str, resume: bool) -> OpenedStudy:
    """Create the study, continue it (`resume`), or move an old run aside and start over."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    archived = None
    exists = workspace.study_file.is_file()
    if exists and not resume:
        previous = workspace.experiment_dir.with_name(workspace.experiment + PREVIOUS_SUFFIX)
        shutil.rmtree(previous, ignore_errors=True)
        workspace.experiment_dir.rename(previous)
        archived = str(previous)
        exists = False
    workspace.experiment_dir.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(workspace.storage_url)
    # Every trial is queued with the point suggestion.sampling chose: this sampler never draws.
    sampler = optuna.samplers.RandomSampler(seed=0)
    if exists:
        try:
            study = optuna.load_study(
                study_name=workspace.experiment, storage=storage, sampler=sampler
            )
        except KeyError as e:
            raise StudyStateError(
                f"{workspace.study_file} holds no run of {workspace.experiment}: delete "
                f"{workspace.experiment_dir} to start over"
            ) from e
        if study.user_attrs.get("fingerprint") != expected:
            raise StudyStateError(
                f"the definition of {workspace.experiment} changed since the saved run started "
                "(only max_trial_count, parallel_trial_count and max_failed_trial_count may "
                "change): run without --resume to start over"
            )
        return OpenedStudy(study, resumed=True, archived=None)
    study = optuna.create_study(
        study_name=workspace.experiment, storage=storage, direction=direction, sampler=sampler
    )
    study.set_user_attr("fingerprint", expected)
    return OpenedStudy(study, resumed=False, archived=archived)
