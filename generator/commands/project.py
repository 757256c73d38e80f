"""The repository as a whole: find definitions, check them, render them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.checks.definition import check_definition, check_record
from generator.checks.secret_store import unread_properties
from generator.checks.secrets import redact_problem
from generator.commands.quota import shared_quota
from generator.errors import HpoError, Problem
from generator.loading.definition import LoadedDefinition, load_definition, parse_definition
from generator.loading.lifecycle import Lifecycle, read_lifecycle
from generator.loading.repo_config import LOCAL_CLUSTER, RepoConfig
from generator.rendering.render import RenderedExperiment, render_experiments
from generator.rendering.warm_start import Generated, generated_settings

EXPERIMENTS_DIR = "experiments"
DEFINITION_FILE = "experiment.yaml"


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder above `start` holding templates/ and images.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "templates" / "experiment.jsonnet").is_file() and (
            folder / "images.yaml"
        ).is_file():
            return folder
    raise HpoError(
        f"{here} is not inside the hpo repository (no templates/ and images.yaml above it)"
    )


def definition_paths(root: Path) -> list[Path]:
    return sorted((root / EXPERIMENTS_DIR).glob(f"*/{DEFINITION_FILE}"))


def find_root_or_none(start: Path | None = None) -> Path | None:
    """find_root, or None outside the repository (`hpo check FILE` works anywhere)."""
    try:
        return find_root(start)
    except HpoError:
        return None


def display(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class DefinitionReport:
    loaded: LoadedDefinition
    rendered: RenderedExperiment | None = None
    problems: list[Problem] = field(default_factory=list)
    # The algorithm settings written for the project's suggestion service (several objectives,
    # warm start), and what the warm start took.
    generated: Generated = field(default_factory=Generated)
    # Whether its results are merged or it is archived (experiments/<name>/ beside it).
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


def folder_name_of(path: Path, root: Path | None) -> str | None:
    """The experiment folder's name when the file is experiments/<name>/experiment.yaml."""
    if root is None:
        return None
    resolved = path.resolve()
    if (
        resolved.name == DEFINITION_FILE
        and resolved.parent.parent == (root / EXPERIMENTS_DIR).resolve()
    ):
        return resolved.parent.name
    return None


def check_loaded(
    definitions: list[tuple[LoadedDefinition, str | None]], root: Path | None, repo: RepoConfig
) -> list[DefinitionReport]:
    """Check each (definition, folder name), then render the valid ones and validate them.
    Without a repository (root None) nothing is rendered: the templates live in it."""
    reports = []
    for loaded, folder_name in definitions:
        report = DefinitionReport(loaded, problems=list(loaded.problems))
        report.lifecycle = lifecycle_of(root, folder_name, loaded)
        report.problems += report.lifecycle.problems
        if report.lifecycle.deleted:
            report.problems += check_record(loaded, folder_name)
        else:
            report.problems += check_definition(loaded, folder_name, repo)
        reports.append(report)
    if root is not None:
        for report in reports:
            if report.lifecycle.deleted:
                continue  # nothing of it is rendered: a warm start would feed nothing
            if report.loaded.spec is not None and not report.failed:
                report.generated = generated_settings(
                    report.loaded.spec, root, report.loaded.document
                )
                report.problems += report.generated.problems
        # Rendering broken input would only repeat the same mistakes; without an image for
        # every role (reported with images.yaml) there is nothing to render with.
        valid = [r for r in reports if r.loaded.spec is not None and not r.failed]
        valid = valid if repo.has_every_image else []
        records = [r.loaded.record for r in valid]
        settings = [r.generated.settings for r in valid]
        stages = [r.lifecycle.stage for r in valid]
        for report, rendered in zip(
            valid, render_experiments(records, root, repo, settings, stages), strict=True
        ):
            report.rendered = rendered
            report.problems += rendered.problems
    for report in reports:  # whoever prints them: hpo check, hpo render, KatibClient.tune()
        report.problems = [redact_problem(p) for p in report.problems]
    return reports


def lifecycle_of(root: Path | None, folder_name: str | None, loaded: LoadedDefinition) -> Lifecycle:
    """The lifecycle files beside experiments/<folder_name>/experiment.yaml (none outside the
    repository, or for a definition that is not in its experiment folder), read for the
    cluster `loaded` names (its salvaged spec when it is broken)."""
    if root is None or folder_name is None:
        return Lifecycle()
    spec = loaded.spec or loaded.salvaged
    on_cluster = spec is not None and spec.cluster != LOCAL_CLUSTER
    folder = f"{EXPERIMENTS_DIR}/{folder_name}"
    return read_lifecycle(root / folder, folder, folder_name, on_cluster)


def check_definitions(
    paths: list[Path], root: Path | None, repo: RepoConfig
) -> list[DefinitionReport]:
    """Load and check definition files (all rendered in one batch)."""
    loaded = [(load_definition(p, display(p, root)), folder_name_of(p, root)) for p in paths]
    return check_loaded(loaded, root, repo)


def repository_wide(
    reports: list[DefinitionReport],
    others: list[tuple[LoadedDefinition, Lifecycle]],
    repo: RepoConfig,
) -> list[Problem]:
    """The checks that need every definition of the repository: `reports` and the `others`
    that were not checked. The cluster-wide quota's errors go to the reports they concern;
    the returned problems are the repository's own (argocd/clusters.yaml's), reported once."""
    shared_quota(reports, others, repo)
    return unread_properties([(r.loaded, r.lifecycle) for r in reports] + others, repo)


def check_repository_wide(
    reports: list[DefinitionReport], root: Path, repo: RepoConfig, replaced: set[Path]
) -> list[Problem]:
    """repository_wide, counting every other experiment of the repository: the cluster-wide
    quota's errors in `reports`, the repository's own problems returned. `replaced`: the
    definition files the reports stand for (a checked text takes the place of the file it
    would be written to)."""
    others = []
    for path in definition_paths(root):
        if path.resolve() in replaced:
            continue
        loaded = load_definition(path, display(path, root))
        others.append((loaded, lifecycle_of(root, path.parent.name, loaded)))
    return repository_wide(reports, others, repo)


def check_definition_text(
    text: str, display_path: str, folder_name: str | None, root: Path, repo: RepoConfig
) -> DefinitionReport:
    """Check a definition that is not (yet) a file, as `hpo check` would check the file,
    the cluster-wide quota included (argocd/clusters.yaml's own warnings are hpo check's to
    report, not this definition's)."""
    report = check_loaded([(parse_definition(text, display_path), folder_name)], root, repo)[0]
    replaced = set()
    if folder_name is not None:
        replaced.add((root / EXPERIMENTS_DIR / folder_name / DEFINITION_FILE).resolve())
    check_repository_wide([report], root, repo, replaced)
    return report


def check_definition_file(path: Path, root: Path, repo: RepoConfig) -> DefinitionReport:
    """check_definitions for one file."""
    return check_definitions([path], root, repo)[0]
