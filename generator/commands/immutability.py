"""`hpo check --base REF`: an experiment that exists at REF may change only what Katib allows.

Katib's webhook refuses any spec update except the three trial counts, so Argo CD could never
sync such a change; the fix is a new experiment name. Both the definition and the Experiment
it renders are compared: a changed template or image changes a live Experiment too.

Archiving is an allowed change (it changes the Experiment's annotations, then removes it from
rendered/); coming back from an archive is not: the objects are gone, so it is a new experiment.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from generator.errors import GitError, Problem
from generator.loading.definition import LoadedDefinition, parse_definition
from generator.loading.lifecycle import ARCHIVE_FILE, Lifecycle, Stage, read_archive_text
from generator.loading.repo_config import LOCAL_CLUSTER
from generator.loading.yamlload import LocatedDocument
from generator.rendering.render import RenderedExperiment, output_path
from generator.spec import MAX_NAME_LENGTH, ExperimentSpec
from suggestion.asha import CONFIG_PARAMETER
from suggestion.settings import ASHA

EDITABLE_KEYS = ("max_trial_count", "parallel_trial_count", "max_failed_trial_count")
EDITABLE_SPEC_FIELDS = ("maxTrialCount", "parallelTrialCount", "maxFailedTrialCount")


def git_show(root: Path, ref: str, path: str) -> str | None:
    """The file at `ref`, or None when it does not exist there."""
    verify = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if verify.returncode != 0:
        raise GitError(f"--base {ref}: no such commit in {root}")
    shown = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True
    )
    return shown.stdout if shown.returncode == 0 else None


def next_name(name: str) -> str:
    match = re.match(r"^(.*)-v(\d+)$", name)
    stem, number = (match[1], int(match[2]) + 1) if match else (name, 2)
    suffix = f"-v{number}"
    return stem[: MAX_NAME_LENGTH - len(suffix)].rstrip("-") + suffix


def _first_difference(old, new, path=()) -> tuple | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), path + (key,))
        return None
    return None if old == new else path


def rerun_advice(name: str) -> str:
    """How to search again after changing an experiment: a new one, started from the old one's
    trials, and the old one archived once the new one has its results."""
    new = next_name(name)
    return (
        f"create a new experiment instead: experiments/{new}/experiment.yaml with name: {new}, "
        f"and warm_start: {{from: [experiments/{name}]}} to start from this one's trials once "
        f"its results are merged; when {new} has its results, hpo archive experiments/{name} "
        "(--force if it never finished; docs/lifecycle.md)"
    )


def _archive_problems(
    root: Path, ref: str, loaded: LoadedDefinition, lifecycle: Lifecycle
) -> list[Problem]:
    """An archive may be added or go on from release to delete; it never goes back."""
    folder = Path(loaded.path).parent.as_posix()
    old_text = git_show(root, ref, f"{folder}/{ARCHIVE_FILE}")
    old = read_archive_text(old_text, f"{folder}/{ARCHIVE_FILE}")[0] if old_text else None
    name = loaded.spec.name
    if old is None:
        unfinished = not lifecycle.finished and loaded.spec.cluster != LOCAL_CLUSTER
        if lifecycle.deleted and unfinished:
            message = (
                f"stage: delete, but {folder} has no results.yaml and was not released at "
                f"{ref}: its live Experiment still carries Prune=false, so Argo CD would delete "
                "its volume and Secrets and leave it running; archive it in two steps: "
                f"stage: release first (hpo archive --force {folder}), merged and synced, then "
                "delete"
            )
            return [Problem(f"{folder}/{ARCHIVE_FILE}", 1, 1, message)]
        return []
    if lifecycle.archive is None:
        message = (
            f"{folder} was archived at {ref}, and {folder}/{ARCHIVE_FILE} is gone: its objects "
            f"are leaving or have left the cluster, so it cannot run again under this name; "
            f"keep {ARCHIVE_FILE}, and {rerun_advice(name)}"
        )
        return [loaded.document.problem(("name",), message)]
    if old.stage is Stage.DELETE and lifecycle.stage is Stage.RELEASE:
        where = f"{folder}/{ARCHIVE_FILE}"
        message = (
            f"stage: went back from delete to release since {ref}: the objects are already "
            "deleted; an archive only moves on"
        )
        return [Problem(where, 1, 1, message)]
    return []


def _count_problems(
    ref: str,
    doc: LocatedDocument,
    old: ExperimentSpec,
    spec: ExperimentSpec,
    lifecycle: Lifecycle,
) -> list[Problem]:
    """Trial counts that may not change after all: hpo-asha's max_trial_count, which bounds a
    parameter, and any count of a finished experiment."""
    if spec.algorithm_name == ASHA and old.max_trial_count != spec.max_trial_count:
        return [
            doc.problem(
                ("max_trial_count",),
                f"max_trial_count changed since {ref}: under hpo-asha it also bounds the "
                f"Experiment's {CONFIG_PARAMETER} parameter (the configurations' ids), and Katib "
                f"refuses any change to parameters; {rerun_advice(spec.name)}",
            )
        ]
    if lifecycle.finished and not lifecycle.archived:
        counts = [key for key in EDITABLE_KEYS if getattr(old, key) != getattr(spec, key)]
        if counts:
            return [
                doc.problem(
                    (counts[0],),
                    f"{counts[0]} changed since {ref}, but {spec.name} has finished (its "
                    "results are merged): Katib would run more trials of an Experiment the "
                    f"quota no longer counts, or refuse the change; {rerun_advice(spec.name)}",
                )
            ]
    return []


def immutability_problems(
    root: Path,
    ref: str,
    loaded: LoadedDefinition,
    rendered: RenderedExperiment | None,
    lifecycle: Lifecycle | None = None,
) -> list[Problem]:
    spec, doc = loaded.spec, loaded.document
    if spec is None or doc is None:
        return []
    lifecycle = lifecycle or Lifecycle()
    old_text = git_show(root, ref, loaded.path)
    if old_text is None:
        return []  # a new experiment
    old = parse_definition(old_text, loaded.path).spec
    if old is None:
        return []
    archived = _archive_problems(root, ref, loaded, lifecycle)
    if archived:
        return archived
    advice = (
        f"Katib allows changing only {', '.join(EDITABLE_KEYS)} of an existing experiment; "
        + rerun_advice(spec.name)
    )
    old_values, new_values = (s.model_dump(exclude=set(EDITABLE_KEYS)) for s in (old, spec))
    changed = _first_difference(old_values, new_values)
    if changed is not None:
        key = ".".join(map(str, changed))
        return [doc.problem(changed, f"{key} changed since {ref}: {advice}")]
    refused = _count_problems(ref, doc, old, spec, lifecycle)
    if refused:
        return refused
    problems = []
    if (old.max_trial_count or 0) > (spec.max_trial_count or 0):
        problems.append(
            doc.problem(
                ("max_trial_count",),
                f"max_trial_count went down since {ref}: Katib refuses a value at or below the "
                "number of trials the Experiment has already run",
                severity="warning",
            )
        )
    if rendered is None or not rendered.deployable or lifecycle.archived:
        # An archive changes the Experiment's annotations, then takes it out of rendered/.
        return problems
    experiment = rendered.object_of_kind("Experiment")
    old_manifest = git_show(root, ref, output_path(spec.cluster, spec.name, experiment))
    if old_manifest is None:
        return problems
    old_spec = dict((yaml.safe_load(old_manifest) or {}).get("spec") or {})
    new_spec = dict(experiment["spec"])
    for field in EDITABLE_SPEC_FIELDS:
        old_spec.pop(field, None)
        new_spec.pop(field, None)
    changed = _first_difference(old_spec, new_spec)
    if changed is None:
        return problems
    where = ".".join(map(str, ("spec",) + changed))
    return problems + [
        doc.problem(
            ("name",),
            f"the rendered Experiment's {where} changed since {ref} "
            f"(templates/ or images.yaml changed): {advice}",
        )
    ]
