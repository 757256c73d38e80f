"""`hpo archive experiments/<name>`: the experiment leaves its cluster; Git keeps its record.

It writes experiments/<name>/archive.yaml and renders the experiment's folder for the archive's
stage (generator.loading.lifecycle.Stage). Once that is merged, Argo CD does the rest:
- stage `delete`: the folder holds only ARCHIVED.md, so the experiment's Application prunes
  every object it deployed (the Experiment with its trials and their Jobs, the Jobs, the volume).
  A finished experiment goes straight there: its results Job lifted the Experiment's
  Prune=false,Delete=false on the cluster before it proposed the results.
- stage `release`: an experiment without results still carries that protection on the cluster,
  and Argo CD reads it from the live object. It is rendered without it first; once Argo CD has
  synced that, `hpo archive` again moves on to `delete`.
What would be lost is refused unless --force: a run that may not have finished, and LoRA adapters
the trials saved on the experiment's own volume. Nothing is written when it is refused.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from generator.checks.cost import gpus_per_trial
from generator.commands.check import print_problems
from generator.commands.immutability import git_show
from generator.commands.project import (
    DEFINITION_FILE,
    EXPERIMENTS_DIR,
    DefinitionReport,
    check_definition_file,
    display,
    find_root,
)
from generator.commands.synced_ref import default_ref, synced_source
from generator.errors import ExitCode, GitError, HpoError
from generator.files import write_atomically
from generator.loading.lifecycle import (
    ARCHIVE_FILE,
    ArchiveRecord,
    Forced,
    Stage,
    read_archive_text,
)
from generator.loading.repo_config import LOCAL_CLUSTER, RepoConfig, load_repo_config
from generator.rendering.manifest_params import WORKSPACE
from generator.rendering.render import (
    RENDERED_DIR,
    RenderedExperiment,
    render_experiments,
    write_folder,
)


class ArchiveRefused(HpoError):
    """Archiving would lose something nobody asked to lose; nothing was written."""

    exit_code = ExitCode.PROBLEMS


@dataclass(frozen=True)
class Step:
    record: ArchiveRecord
    said: list[str]  # what it does, for the person who asked


def _definition(given: str, root: Path) -> Path:
    path = Path(given)
    path = path / DEFINITION_FILE if path.is_dir() else path
    resolved = path.resolve()
    if resolved.name != DEFINITION_FILE or resolved.parent.parent != root / EXPERIMENTS_DIR:
        raise ArchiveRefused(f"{given}: not an experiment folder (experiments/<name>)")
    if not resolved.is_file():
        raise ArchiveRefused(f"{given}: no {EXPERIMENTS_DIR}/<name>/{DEFINITION_FILE} there")
    return resolved


def _what_is_deleted(rendered: RenderedExperiment) -> str:
    spec = rendered.spec
    objects = ", ".join(f"{o['kind']} {o['metadata']['name']}" for o in rendered.objects)
    said = f"in namespace {spec.namespace} of cluster {spec.cluster}: {objects}"
    if spec.storage_config.existing_claim:
        said += (
            f" (the shared volume {spec.storage_config.existing_claim} is not this experiment's "
            "and stays, with its download cache)"
        )
    return said + "; Katib's trials and their Jobs and Pods go with the Experiment"


def _refusals(report: DefinitionReport) -> dict[Forced, str]:
    """What archiving this experiment would lose, by what --force allows: nothing for an
    experiment that runs only locally, which has nothing on a cluster."""
    spec, lifecycle = report.loaded.spec, report.lifecycle
    refusals: dict[Forced, str] = {}
    name = spec.name
    if spec.cluster == LOCAL_CLUSTER:
        return refusals
    if not lifecycle.finished:
        gpus = f", {gpus_per_trial(spec)} GPUs each" if gpus_per_trial(spec) else ""
        refusals["running"] = (
            f"experiments/{name} may still be running: it has no results.yaml yet. Archiving "
            f"stops it: its Experiment is deleted with its trials (up to "
            f"{spec.effective_parallel_trial_count} at a time{gpus}) before they finish, and "
            "its results Job never proposes results"
        )
    if spec.retain_trials:
        refusals["retained_trials"] = (
            f"{name} sets retain_trials: true, keeping its finished trials' Jobs and Pods (and "
            "their logs) on the cluster; archiving deletes them with the Experiment: save the "
            "logs to keep first"
        )
    own_volume = spec.storage_config.existing_claim is None
    if spec.trainer_parameters.save_adapter and own_volume:
        refusals["saved_adapters"] = (
            f"the trials of {name} saved their LoRA adapters on its volume, "
            f"PersistentVolumeClaim {name} in namespace {spec.namespace}, under "
            f"{WORKSPACE}/trials/<trial>/adapter; archiving deletes the volume with them: copy "
            "the ones to keep first"
        )
    return refusals


def _release_synced_at(root: Path, name: str) -> str:
    """The revision Argo CD deploys, once it holds this experiment's release stage; refused
    before: deleting what still carries Prune=false would leave the Experiment running with its
    volume and Secrets gone."""
    ref = default_ref(root, synced_source(root))
    where = f"{EXPERIMENTS_DIR}/{name}/{ARCHIVE_FILE}"
    try:
        text = git_show(root, ref, where)
    except GitError as e:
        raise ArchiveRefused(
            f"experiments/{name}: the delete stage waits for the release to be on {ref}, the "
            f"revision Argo CD deploys, and {ref} cannot be read here ({e})"
        ) from e
    record = read_archive_text(text, f"{ref}:{where}")[0] if text is not None else None
    if record is None or record.stage is not Stage.RELEASE:
        raise ArchiveRefused(
            f"experiments/{name}: its release (stage: release) is not on {ref}, the revision "
            "Argo CD deploys, yet: merge it, let Argo CD sync it, then run hpo archive "
            f"experiments/{name} again (git fetch first if {ref} is a remote's branch)"
        )
    return ref


def next_step(report: DefinitionReport, force: bool, root: Path) -> Step | None:
    """The archive record to write and what it does; None when there is nothing left to do."""
    spec, archive = report.loaded.spec, report.lifecycle.archive
    name, cluster = spec.name, spec.cluster
    folder = f"{RENDERED_DIR}/{cluster}/{name}/"
    if archive is not None and archive.stage is Stage.DELETE:
        return None
    if archive is not None:  # released before: on to deleting
        ref = _release_synced_at(root, name)
        record = ArchiveRecord(stage=Stage.DELETE, forced=archive.forced)
        check = (
            f"kubectl -n {spec.namespace} get experiment {name} -o "
            "jsonpath='{.metadata.annotations.argocd\\.argoproj\\.io/sync-options}'"
        )
        return Step(
            record,
            [
                f"experiments/{name}: stage delete. The release is on {ref}; merge this only "
                f"once Argo CD has synced that commit, so that the live Experiment no longer "
                f"carries Prune=false (`{check}` prints nothing). Then {folder} holds no "
                f"manifests, and Argo CD deletes {_what_is_deleted(report.rendered)}",
            ],
        )
    refusals = _refusals(report)
    if refusals and not force:
        raise ArchiveRefused(
            "; and ".join(refusals.values()) + f". Nothing was written; to archive {name} all "
            "the same: hpo archive --force experiments/" + name
        )
    forced = sorted(refusals)
    if spec.cluster == LOCAL_CLUSTER:
        said = [f"experiments/{name} archived: it runs only locally, so no cluster is touched"]
        return Step(ArchiveRecord(stage=Stage.DELETE, forced=forced), said)
    said = [f"warning: {why}" for why in refusals.values()]
    if "running" in refusals:
        said.append(
            f"experiments/{name}: stage release. Once this is merged, Argo CD takes "
            f"Prune=false,Delete=false off the Experiment {name}; it keeps running and holding "
            f"its GPUs meanwhile. Once Argo CD has synced that commit, run hpo archive "
            f"experiments/{name} again to delete its objects"
        )
        return Step(ArchiveRecord(stage=Stage.RELEASE, forced=forced), said)
    said.append(
        f"experiments/{name}: archived. Once this is merged, {folder} holds no manifests and "
        f"Argo CD deletes {_what_is_deleted(report.rendered)}. experiments/{name}/ keeps its "
        "definition, results and report"
    )
    return Step(ArchiveRecord(stage=Stage.DELETE, forced=forced), said)


def _rendered_for(
    report: DefinitionReport, root: Path, repo: RepoConfig, stage: Stage
) -> dict[str, str]:
    """The experiment's rendered files at `stage` (none for a local-only experiment)."""
    rendered = render_experiments(
        [report.loaded.record], root, repo, [report.generated.settings], [stage]
    )[0]
    return rendered.files if rendered.deployable else {}


def _write(root: Path, repo: RepoConfig, report: DefinitionReport, step: Step) -> list[str]:
    """The new rendered folder first, then archive.yaml: a run stopped in between leaves
    rendered/ stale against experiments/, which hpo render --check reports."""
    spec = report.loaded.spec
    files = _rendered_for(report, root, repo, step.record.stage)
    folder = f"{RENDERED_DIR}/{spec.cluster}/{spec.name}"
    written, removed = write_folder(root, folder, files)
    archive = root / EXPERIMENTS_DIR / spec.name / ARCHIVE_FILE
    write_atomically(archive, step.record.to_yaml())
    return [
        f"wrote {display(archive, root)}",
        *(f"wrote {path}" for path in written),
        *(f"removed {path}" for path in removed),
    ]


def run(args: argparse.Namespace) -> int:
    root = find_root()
    path = _definition(args.path, root)
    repo = load_repo_config(root)
    report = check_definition_file(path, root, repo)
    if report.failed or report.loaded.spec is None:
        print_problems(report.problems)
        raise ArchiveRefused(
            f"{display(path, root)} has errors (above): an experiment is archived as it "
            "renders, so fix them first"
        )
    step = next_step(report, args.force, root)
    if step is None:
        print(f"experiments/{report.loaded.spec.name} is already archived; nothing to do")
        return ExitCode.OK
    for change in _write(root, repo, report, step):
        print(change)
    for line in step.said:
        print(line)
    return ExitCode.OK
