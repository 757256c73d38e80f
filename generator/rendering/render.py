"""Definitions -> objects (jsonnet) -> validated, deterministic YAML files under rendered/."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import yaml

from generator.errors import Problem, RenderError
from generator.files import write_atomically
from generator.loading.definition import DefinitionRecord
from generator.loading.lifecycle import ARCHIVE_FILE, Stage
from generator.loading.repo_config import LOCAL_CLUSTER, RepoConfig
from generator.loading.yamlload import resolve_plain_scalar
from generator.rendering.manifest_params import manifest_params
from generator.spec import ExperimentSpec
from generator.validate import dotted
from generator.validate.objects import validate_object

RENDERED_DIR = "rendered"
TEMPLATE = "experiment.jsonnet"
# What an archived experiment's folder holds instead of manifests. The folder keeps the
# experiment's Argo CD Application, which then prunes every object it deployed; Argo CD's
# directory source reads only .yaml, .yml, .json and .jsonnet files, so this one is not applied.
ARCHIVED_NOTE = "ARCHIVED.md"


@dataclass
class RenderedExperiment:
    definition: DefinitionRecord
    objects: list[dict]
    files: dict[str, str] = field(default_factory=dict)  # repo-relative path -> YAML text
    problems: list[Problem] = field(default_factory=list)
    # hpo archive's stage, when it was archived. At `delete`, nothing is rendered: `objects` is
    # empty and `files` holds only ARCHIVED_NOTE.
    archive_stage: Stage | None = None

    @property
    def spec(self) -> ExperimentSpec:
        return self.definition.spec

    @property
    def deployable(self) -> bool:
        return self.spec.cluster != LOCAL_CLUSTER

    def object_of_kind(self, kind: str) -> dict:
        return next(obj for obj in self.objects if obj["kind"] == kind)


_STR_TAG = "tag:yaml.org,2002:str"
_YAML11 = yaml.resolver.Resolver()


@lru_cache(maxsize=65536)
def _string_event(value: str) -> yaml.ScalarEvent:
    """A string's scalar event: quoted whenever YAML 1.1 (kubectl, Argo CD) or YAML 1.2 would
    read the plain text back as something other than this string. Events carry no position,
    so one object serves every occurrence."""
    if "\n" in value:  # a file's content, such as the definition record: as a literal block
        return yaml.ScalarEvent(None, None, (False, True), value, style="|")
    if not isinstance(resolve_plain_scalar(value), str):
        return yaml.ScalarEvent(None, None, (False, True), value, style='"')
    plain = _YAML11.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
    return yaml.ScalarEvent(None, None, (plain, True), value)


def _scalar_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return yaml.safe_dump(value).splitlines()[0]
    return str(value)


_MAPPING_START = yaml.MappingStartEvent(None, None, True, flow_style=False)
_MAPPING_END = yaml.MappingEndEvent()
_SEQUENCE_START = yaml.SequenceStartEvent(None, None, True, flow_style=False)
_SEQUENCE_END = yaml.SequenceEndEvent()


def _events(value: object, out: list) -> None:
    kind = type(value)  # exact types: the objects are parsed JSON
    if kind is str:
        out.append(_string_event(value))
    elif kind is dict:
        out.append(_MAPPING_START)
        for key in sorted(value):
            out.append(_string_event(key))
            _events(value[key], out)
        out.append(_MAPPING_END)
    elif kind is list:
        out.append(_SEQUENCE_START)
        for item in value:
            _events(item, out)
        out.append(_SEQUENCE_END)
    else:
        out.append(yaml.ScalarEvent(None, None, (True, False), _scalar_text(value)))


def to_yaml(obj: object) -> str:
    """Block-style YAML with sorted keys. Events go straight to the C emitter: PyYAML's Python
    representer costs more than rendering the object."""
    events = [yaml.StreamStartEvent(), yaml.DocumentStartEvent(explicit=False)]
    _events(obj, events)
    events += [yaml.DocumentEndEvent(explicit=False), yaml.StreamEndEvent()]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.emit(events, Dumper=dumper, width=1_000_000, allow_unicode=True)


@cache
def _jsonnet():
    import _jsonnet

    return _jsonnet


# One evaluation for many experiments: each evaluation re-parses jsonnet's standard library,
# which costs more than rendering an experiment.
_RENDER_MANY = f"""
local experiment = import '{TEMPLATE}';
function(paramsList) [experiment(params) for params in paramsList]
"""


def evaluate_templates(templates_dir: Path, params_list: list[dict]) -> list[list[dict]]:
    """The objects of each experiment, in the order of `params_list`."""
    try:
        output = _jsonnet().evaluate_snippet(
            str(templates_dir / "render-many.jsonnet"),
            _RENDER_MANY,
            tla_codes={"paramsList": json.dumps(params_list, sort_keys=True, allow_nan=False)},
            jpathdir=[str(templates_dir)],
        )
    except RuntimeError as e:
        raise RenderError(f"templates/{TEMPLATE} failed to evaluate: {e}") from e
    return json.loads(output)


def output_path(cluster: str, experiment: str, obj: dict) -> str:
    kind = obj["kind"].lower()
    return f"{RENDERED_DIR}/{cluster}/{experiment}/{kind}-{obj['metadata']['name']}.yaml"


def render_experiments(
    definitions: list[DefinitionRecord],
    root: Path,
    repo: RepoConfig,
    generated: list[dict[str, str]] | None = None,
    stages: list[Stage | None] | None = None,
) -> list[RenderedExperiment]:
    """Render and validate experiments; files are filled even for local-only experiments.
    `generated` holds each one's generated algorithm settings (generator.rendering.warm_start),
    `stages` each one's archive stage (None: not archived)."""
    if not definitions:
        return []
    clusters = repo.clusters
    generated = generated or [{} for _ in definitions]
    stages = stages or [None for _ in definitions]
    # An experiment archived to the end renders only its note: its objects are gone, and the
    # templates, images and clusters of today need not fit it any more.
    live = [i for i, stage in enumerate(stages) if stage is not Stage.DELETE]
    params = [
        manifest_params(
            definitions[i],
            repo.images,
            clusters.get(definitions[i].spec.cluster),
            generated[i],
            protect=stages[i] is None,
        )
        for i in live
    ]
    evaluated = dict(zip(live, evaluate_templates(root / "templates", params), strict=True))
    rendered = []
    for i, (definition, stage) in enumerate(zip(definitions, stages, strict=True)):
        spec = definition.spec
        experiment = RenderedExperiment(definition, evaluated.get(i, []), archive_stage=stage)
        if stage is Stage.DELETE:
            path = f"{RENDERED_DIR}/{spec.cluster}/{spec.name}/{ARCHIVED_NOTE}"
            experiment.files[path] = archived_note(spec.name)
            rendered.append(experiment)
            continue
        for obj in experiment.objects:
            path = output_path(spec.cluster, spec.name, obj)
            if path in experiment.files:
                raise RenderError(f"two rendered objects would both be written to {path}")
            experiment.files[path] = to_yaml(obj)
            for finding in validate_object(obj):
                where = dotted(finding.path)
                message = f"{where}: {finding.message}" if where else finding.message
                experiment.problems.append(Problem(path, 1, 1, message))
        rendered.append(experiment)
    return rendered


def archived_note(name: str) -> str:
    return (
        f"# {name} is archived\n"
        "\n"
        f"`experiments/{name}/{ARCHIVE_FILE}` archived this experiment.\n"
        "This folder holds no manifests, so the Argo CD Application of the same name\n"
        "deletes (prunes) every object it deployed for the experiment.\n"
        f"Its definition, results and report stay in `experiments/{name}/`.\n"
        "See docs/lifecycle.md.\n"
    )


def desired_tree(rendered: list[RenderedExperiment]) -> dict[str, str]:
    tree: dict[str, str] = {}
    for experiment in rendered:
        if experiment.deployable:
            tree.update(experiment.files)
    return tree


def existing_tree(root: Path) -> dict[str, str]:
    base = root / RENDERED_DIR
    if not base.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        # Every file: Argo CD's directory source applies .yml and .json too.
        for path in sorted(p for p in base.rglob("*") if p.is_file())
    }


def stale_paths(root: Path, desired: dict[str, str]) -> list[tuple[str, str]]:
    """(path, what is wrong) for every file that differs from what would be rendered."""
    existing = existing_tree(root)
    changes = []
    for path in sorted(set(existing) | set(desired)):
        if path not in existing:
            changes.append((path, "missing"))
        elif path not in desired:
            changes.append((path, "not rendered from any definition"))
        elif existing[path] != desired[path]:
            changes.append((path, "differs from its definition (stale or edited by hand)"))
    return changes


def write_tree(root: Path, desired: dict[str, str]) -> list[str]:
    """Make rendered/ equal `desired`; each file is replaced atomically. Returns changed paths."""
    changed = []
    for path, reason in stale_paths(root, desired):
        target = root / path
        if path in desired:
            write_atomically(target, desired[path])
        else:
            target.unlink()
        changed.append(f"{path} ({reason})" if path not in desired else path)
    _remove_empty_folders(root / RENDERED_DIR)
    return changed


def write_folder(root: Path, folder: str, files: dict[str, str]) -> tuple[list[str], list[str]]:
    """Make `folder` (repository-relative, e.g. rendered/<cluster>/<name>) hold exactly `files`
    (repository-relative paths inside it): each written atomically when it differs, every other
    file removed. Returns the paths written and the paths removed."""
    written = []
    for path, text in sorted(files.items()):
        target = root / path
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            write_atomically(target, text)
            written.append(path)
    removed = []
    if (root / folder).is_dir():
        for stale in sorted(p for p in (root / folder).iterdir() if p.is_file()):
            path = stale.relative_to(root).as_posix()
            if path not in files:
                stale.unlink()
                removed.append(path)
    return written, removed


def _remove_empty_folders(base: Path) -> None:
    if not base.is_dir():
        return
    for folder in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
