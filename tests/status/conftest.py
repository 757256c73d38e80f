"""A repository in real git with experiments in every state, and `hpo` with the commands that
pyproject.toml declares (the installed metadata may predate them)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from tests.generator.conftest import VALID_DEFINITION, pin_test_quota
from tests.support.results_files import results_yaml  # noqa: F401 - the status tests' import

REPO = Path(__file__).resolve().parents[2]
COPIED = ("templates", "images.yaml", "argocd/clusters.yaml", "argocd/applicationset.yaml")
# VALID_DEFINITION: 2 parallel trials x 2 GPUs = 4 GPUs on gpu-cluster-1 (gpu_quota 8).


def git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.org", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def definition(
    name: str, cluster: str = "gpu-cluster-1", parallel: int = 2, extra: str = ""
) -> str:
    """VALID_DEFINITION named `name` on `cluster`, `parallel` trials x 2 GPUs at once."""
    text = VALID_DEFINITION.replace("name: demo-exp", f"name: {name}")
    text = text.replace("cluster: gpu-cluster-1", f"cluster: {cluster}")
    text = text.replace("parallel_trial_count: 2", f"parallel_trial_count: {parallel}")
    return text + extra


class Repo:
    """A repository root in git: write experiment files, commit them to main."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, name: str, file: str, text: str) -> Path:
        path = self.root / "experiments" / name / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def commit(self, message: str) -> str:
        git(self.root, "add", "-A")
        git(self.root, "commit", "--quiet", "--allow-empty", "-m", message)
        return git(self.root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    root = tmp_path / "repo"
    for item in COPIED:
        target = root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        copy = shutil.copytree if (REPO / item).is_dir() else shutil.copy
        copy(REPO / item, target)
    pin_test_quota(root / "argocd" / "clusters.yaml")
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(root))
    repo = Repo(root)
    repo.commit("The repository")
    monkeypatch.chdir(root)
    return repo


@pytest.fixture(autouse=True)
def declared_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """`hpo` finds the subcommands pyproject.toml declares, as an install of this tree would."""
    import generator.cli

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    group = generator.cli.COMMANDS_GROUP
    points = [EntryPoint(n, v, group) for n, v in sorted(declared[group].items())]
    monkeypatch.setattr(generator.cli, "entry_points", lambda group: points)
