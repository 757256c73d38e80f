"""The pre-commit hooks: what they run, that CI runs the same, and what a commit gets from them,
run for real with git and pre-commit on a copy of the repository's definitions."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.argocd.workflow_files import (
    REPO_ROOT,
    hook_command,
    load_hooks,
    load_workflow,
    make_recipe,
    repository_files,
    step_named,
)

# What hpo check and hpo render read: a repository of these alone is one hpo can check.
COPIED = ("experiments/", "templates/", "argocd/", "rendered/", "images.yaml", ".pre-commit-config")
DEFINITION = "experiments/llama-3-2-1b-imdb/experiment.yaml"
# The entry every hook shares: .venv/bin first on PATH, then the command in args.
VENV_ENTRY = """sh -c 'PATH="$PWD/.venv/bin:$PATH"; export PATH; exec "$@"' venv"""


class TestHookConfig:
    def test_every_hook_is_a_local_command_with_nothing_to_install(self):
        config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
        assert ["local"] == [repo["repo"] for repo in config["repos"]]
        for hook in load_hooks().values():
            assert ("unsupported", VENV_ENTRY) == (hook["language"], hook["entry"]), hook["id"]
            assert "additional_dependencies" not in hook, hook["id"]

    def test_the_hooks_run_the_checks_and_linters_meant(self):
        assert [
            "hpo check",
            "hpo render --check",
            "ruff check --force-exclude",
            "ruff format --check --force-exclude",
            "check-jsonschema --builtin-schema vendor.github-workflows",
            "zizmor --offline .github/workflows",
            "check-jsonschema --builtin-schema vendor.renovate",
        ] == [hook_command(h) for h in load_hooks().values()]

    def test_hpo_check_gets_exactly_the_definitions(self):
        files = repository_files()
        pattern = re.compile(load_hooks()["hpo-check"]["files"])
        definitions = [f for f in files if re.fullmatch(r"experiments/[^/]+/experiment\.yaml", f)]
        assert len(definitions) >= 3
        assert definitions == [f for f in files if pattern.search(f)]

    def test_render_check_runs_on_every_commit(self):
        """Whatever changed (clusters.yaml, images.yaml, templates/, the generator), every
        definition is checked again and rendered/ compared."""
        hook = load_hooks()["hpo-render-check"]
        assert (True, False) == (hook["always_run"], hook["pass_filenames"])

    def test_the_renovate_hook_selects_its_config(self):
        assert re.search(load_hooks()["renovate-schema"]["files"], ".github/renovate.json5")


class TestCIRunsTheSameHooks:
    """`make lint` (so `make test` and .ci/run) and the pull-request workflow run every hook on
    every file: the checks before a commit and CI's cannot drift."""

    def test_make_lint_is_the_hooks_on_every_file(self):
        assert ["$(BIN)/pre-commit run --all-files"] == make_recipe("lint")
        assert re.search(r"^test: lint$", (REPO_ROOT / "Makefile").read_text(), re.M)
        assert "make test" in (REPO_ROOT / ".ci" / "run").read_text().splitlines()

    def test_the_pull_request_workflow_runs_the_same_command(self):
        step = step_named(load_workflow("pull-request.yml"), "check", "pre-commit hooks")
        assert "pre-commit run --all-files" == step["run"].strip()


def _venv_tool(name: str) -> Path:
    path = Path(sys.executable).parent / name
    if not path.is_file():
        pytest.skip(f"{name} is not installed in this environment (the dev extra installs it)")
    return path


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> Path:
    """A git repository holding the definitions, templates, cluster list, rendered/ and the
    hook config of this checkout, in one commit."""
    root = tmp_path_factory.mktemp("origin")
    for name in repository_files():
        if name.startswith(COPIED):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, root / name)
    env = _env(root.parent / "origin-cache")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "base"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


def _env(cache: Path) -> dict[str, str]:
    """The venv's commands first (hpo from this checkout), pre-commit's cache where given, and
    no user or system git configuration."""
    bin_dir = str(Path(sys.executable).parent)
    empty = cache.parent / "gitconfig"
    empty.touch()
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO_ROOT),
        "PRE_COMMIT_HOME": str(cache),
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }


@pytest.fixture
def clone(origin, tmp_path) -> tuple[Path, dict[str, str]]:
    """A fresh clone, and an environment whose pre-commit cache does not exist yet."""
    _venv_tool("pre-commit")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    return work, _env(tmp_path / "cache")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def _status(output: str, name: str) -> str:
    """Passed, Failed or Skipped: what pre-commit printed for the hook whose name starts with
    `name`."""
    [line] = [line for line in output.splitlines() if line.startswith(name)]
    return line.rsplit(".", 1)[1].removeprefix("(no files to check)")


class TestHooksForReal:
    def test_a_fresh_clone_passes_offline_and_installs_nothing(self, clone):
        work, env = clone
        result = _run(["pre-commit", "run", "--all-files"], work, env)
        assert 0 == result.returncode, result.stdout + result.stderr
        assert "Passed" == _status(result.stdout, "hpo check (the definitions changed)")
        assert "Passed" == _status(result.stdout, "hpo render --check (every definition")
        # No environment was built and nothing fetched: the cache holds only pre-commit's own
        # bookkeeping, no repository.
        cache = Path(env["PRE_COMMIT_HOME"])
        assert {".lock", "README", "db.db"} >= {p.name for p in cache.iterdir()}

    def test_a_commit_of_a_bad_definition_is_refused_at_its_line(self, clone):
        work, env = clone
        assert 0 == _run(["pre-commit", "install"], work, env).returncode
        path = work / DEFINITION
        text = path.read_text()
        line = text[: text.index("num_train_epochs:")].count("\n") + 1
        path.write_text(text.replace("num_train_epochs:", "num_train_epoch:"))
        subprocess.run(["git", "add", DEFINITION], cwd=work, env=env, check=True)
        result = _run(["git", "commit", "-m", "a typo"], work, env)
        output = result.stdout + result.stderr
        assert 1 == result.returncode, output
        # git shows a hook's output on its standard error.
        assert "Failed" == _status(output, "hpo check (the definitions changed)")
        assert re.search(
            rf"^{re.escape(DEFINITION)}:{line}:\d+: error: 'num_train_epoch' is not a field of "
            "TrainingArguments; did you mean 'num_train_epochs'\\?$",
            output,
            re.M,
        ), output
        assert "Skipped" == _status(output, "ruff check.")
        log = _run(["git", "rev-list", "--count", "HEAD"], work, env).stdout
        assert "1" == log.strip(), "the commit was not made"

    def test_a_cluster_change_is_judged_against_every_definition(self, clone):
        """No definition changed, yet a lower quota fails the commit at the definition's line."""
        work, env = clone
        clusters = work / "argocd" / "clusters.yaml"
        text = clusters.read_text()
        assert "gpu_quota: 16\n" in text
        clusters.write_text(text.replace("gpu_quota: 16\n", "gpu_quota: 2\n", 1))
        subprocess.run(["git", "add", "argocd/clusters.yaml"], cwd=work, env=env, check=True)
        result = _run(["pre-commit", "run"], work, env)
        assert 1 == result.returncode, result.stdout + result.stderr
        assert "Skipped" == _status(result.stdout, "hpo check (the definitions changed)")
        assert "Failed" == _status(result.stdout, "hpo render --check (every definition")
        definition = (work / DEFINITION).read_text()
        line = definition[: definition.index("parallel_trial_count:")].count("\n") + 1
        assert re.search(
            rf"^{re.escape(DEFINITION)}:{line}:\d+: error: parallel_trial_count: .* more than "
            "the 2 GPUs cluster 'gpu-cluster-1' allows",
            result.stdout,
            re.M,
        ), result.stdout
