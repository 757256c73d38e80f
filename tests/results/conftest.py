"""Fixtures for the write-back: a bare git origin, a forge server, a Kubernetes API server."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from proposal.git import Identity
from results.definition import search_space
from tests.support import katib
from tests.support.forge_server import TOKEN

BOT = Identity("hpo-results", "hpo-results@noreply.invalid")
PERSON = Identity("Ada Reviewer", "ada@example.org")


def git(cwd: Path, *args: str, identity: Identity = PERSON) -> str:
    completed = subprocess.run(
        ["git", "-c", f"user.name={identity.name}", "-c", f"user.email={identity.email}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


@dataclass
class Origin:
    """A bare repository with `main` holding the experiment's definition."""

    path: Path
    scratch: Path

    @property
    def url(self) -> str:
        return str(self.path)

    def clone(self, name: str, branch: str = "main") -> Path:
        dest = self.scratch / name
        git(self.scratch, "clone", "--quiet", "--branch", branch, self.url, str(dest))
        return dest

    def tip(self, branch: str) -> str | None:
        out = git(self.path, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return out or None

    def log(self, revision_range: str) -> list[tuple[str, str]]:
        """(author email, subject) per commit, newest first."""
        out = git(self.path, "log", "--format=%ae%x09%s", revision_range)
        return [tuple(line.split("\t", 1)) for line in out.splitlines()]  # type: ignore[misc]

    def show(self, branch: str, path: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"{branch}:{path}"], cwd=self.path, capture_output=True, check=True
        ).stdout


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No user or system git config, and no HPO_* settings from the environment."""
    empty = tmp_path_factory.mktemp("gitconfig") / "config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key in [k for k in os.environ if k.startswith("HPO_")] + ["KUBECONFIG"]:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    bare = tmp_path / "origin.git"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    seed = scratch / "seed"
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(seed))
    folder = seed / "experiments" / katib.NAME
    folder.mkdir(parents=True)
    (folder / "experiment.yaml").write_text(katib.DEFINITION)
    (seed / "README.md").write_text("# hpo\n")
    git(seed, "add", ".")
    git(seed, "commit", "--quiet", "-m", "Add the IMDB experiment")
    git(seed, "push", "--quiet", str(bare), "main")
    return Origin(bare, scratch)


def definition_record(text: str = katib.DEFINITION):
    """The validated definition as the generator renders it into the results Job's ConfigMap."""
    from generator.loading.definition import parse_definition

    loaded = parse_definition(text, f"experiments/{katib.NAME}/experiment.yaml")
    assert not loaded.problems, loaded.problems
    return loaded.record


SPACE = search_space(definition_record().spec)  # what types Katib's values in these tests
DIGEST = definition_record().sha256


@pytest.fixture
def definition_file(tmp_path: Path) -> Path:
    path = tmp_path / "definition.json"
    path.write_text(definition_record().to_json(), encoding="utf-8")
    return path


@pytest.fixture
def github():
    from tests.support.forge_server import ForgeServer

    with ForgeServer("github", "example-org/hpo") as server:
        yield server


@pytest.fixture
def gitlab():
    from tests.support.forge_server import ForgeServer

    with ForgeServer("gitlab", "platform/ml/hpo") as server:
        yield server


@pytest.fixture
def kube():
    from tests.support.kube_api import KubeServer

    with KubeServer() as server:
        yield server


def set_results_job_env(
    monkeypatch: pytest.MonkeyPatch, definition: Path, origin: Origin, github, **more: str
) -> None:
    """The environment the rendered results Job gives its container, pointed at this test's
    bare origin and GitHub API server; `more` adds or overrides variables."""
    values = {
        "HPO_DEFINITION": str(definition),
        "HPO_GIT_URL": origin.url,
        "HPO_FORGE": "github",
        "HPO_FORGE_API_URL": github.api_url,
        "HPO_REPO": github.state.repo,
        "HPO_FORGE_TOKEN": TOKEN,
        **more,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
