"""Loading the GitHub Actions workflows and their helper scripts for tests."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def step_named(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    [step] = [s for s in steps(workflow, job) if s.get("name") == name]
    return step


def step_using(workflow: dict[str, Any], job: str, action: str) -> dict[str, Any]:
    [step] = [s for s in steps(workflow, job) if s.get("uses", "").startswith(action + "@")]
    return step


def script(name: str) -> ModuleType:
    """Import .github/workflows/scripts/<name>.py as a module."""
    path = WORKFLOWS / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"workflow_scripts.{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def github_path_filter_matches(pattern: str, path: str) -> bool:
    """GitHub's path filter glob: `*` stays within a folder, `**` crosses folders."""
    regex = ""
    for part in re.split(r"(\*\*|\*)", pattern):
        if part == "**":
            regex += ".*"
        elif part == "*":
            regex += "[^/]*"
        else:
            regex += re.escape(part)
    return re.fullmatch(regex, path) is not None


def workflow_runs_for(paths_ignore: list[str], changed: list[str]) -> bool:
    """Whether a pull request changing `changed` triggers a workflow with `paths_ignore`."""
    return not all(any(github_path_filter_matches(p, f) for p in paths_ignore) for f in changed)


def make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, in order, without their leading tab."""
    lines = (REPO_ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}\s*:", line))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line[1:])
    return recipe


def checkout_steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    """(job, step) for every actions/checkout step of a workflow."""
    workflow = load_workflow(name)
    return [
        (job, step)
        for job in workflow["jobs"]
        for step in steps(workflow, job)
        if step.get("uses", "").startswith("actions/checkout@")
    ]


def load_hooks() -> dict[str, dict[str, Any]]:
    """The hooks of .pre-commit-config.yaml by id, in order (all in its one local repo)."""
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    [repo] = config["repos"]
    return {hook["id"]: hook for hook in repo["hooks"]}


def hook_command(hook: dict[str, Any]) -> str:
    """The command a hook runs (its args: the entry only puts .venv/bin on PATH)."""
    return " ".join(hook["args"])


def repository_files(root: Path = REPO_ROOT) -> list[str]:
    """The repository's files: tracked, plus new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted({line for line in listed.splitlines() if (root / line).is_file()})
