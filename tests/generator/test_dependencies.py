"""The generator extra's bounds: what hpo check imports is declared, what it does not import
cannot break it, and the versions under test are within what pyproject.toml allows.

The bounds (pyproject.toml, generator extra) and why each holds:
- kubeflow-training and the kubernetes client are not the generator's dependencies: PyTorchJobs
  are checked against the schema in generator/validate/pytorchjob.py. Proven below by running
  hpo check and hpo render with both made unimportable, so no version of them can crash it.
- kubernetes-validate>=1.30: from 1.30 on its strict schemas are one `_definitions.json` per
  Kubernetes version with `$defs`, which kube_schema and the PyTorchJob schema read; the types the
  PyTorchJob schema embeds are checked here on the installed release.
- jsonschema-rs>=0.60,<1, pydantic>=2.7,<3, kubeflow-trainer-api>=2.3,<3: APIs as used here;
  the installed versions must lie within them (checked below), so the suite runs on a declared
  version.
"""

# ruff: noqa: SIM300
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from generator.validate.kube_schema import core_definitions
from generator.validate.pytorchjob import _ROOTS
from tests.generator.conftest import MULTI_NODE_DEFINITION, REPO
from tests.support.katib_examples import PYTORCHJOB_EXPERIMENT

PROJECT = (
    "generator",
    "storage_init",
    "trainer",
    "results",
    "local_runner",
    "client",
    "suggestion",
)
# Imported only when installed, behind hf_fields.library_available: the ml extra.
OPTIONAL = {"transformers", "peft"}
# Modules that come with a declared distribution.
PROVIDED_BY = {"pydantic-core": "pydantic"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _generator_extra() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(r) for r in project["project"]["optional-dependencies"]["generator"]]


def _imported_distributions() -> set[str]:
    modules = set()
    for path in (REPO / "generator").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = modules - set(sys.stdlib_module_names) - set(PROJECT)
    owners = metadata.packages_distributions()
    return {_normal(d) for module in third_party for d in owners.get(module, [module])}


class TestDeclaredBounds:
    """The suite runs on versions pyproject.toml allows, and the generator imports only what
    its extra declares."""

    @pytest.mark.parametrize("requirement", _generator_extra(), ids=str)
    def test_installed_version_is_allowed(self, requirement):
        installed = metadata.version(requirement.name)
        assert requirement.specifier.contains(installed, prereleases=True), installed

    def test_every_import_is_declared(self):
        declared = {_normal(r.name) for r in _generator_extra()}
        imported = {PROVIDED_BY.get(d, d) for d in _imported_distributions()}
        assert set() == imported - declared - OPTIONAL

    def test_no_sdk_is_declared(self):
        assert set() == {_normal(r.name) for r in _generator_extra()} & {
            "kubeflow-training",
            "kubernetes",
        }

    def test_the_kubernetes_types_the_pytorchjob_schema_embeds_exist(self):
        assert set() == set(_ROOTS) - set(core_definitions())


BLOCKED_RUN = """\
import importlib.abc, sys

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "kubernetes" or name.startswith("kubeflow.training"):
            raise ModuleNotFoundError(f"{name} is blocked", name=name)
        return None

sys.meta_path.insert(0, Blocked())
for name in [m for m in sys.modules if m.split(".")[0] == "kubernetes"]:
    del sys.modules[name]
from generator.cli import main
sys.exit(main(sys.argv[1:]))
"""


class TestNoSdkNeeded:
    """With the kubernetes client and kubeflow-training unimportable, hpo check and hpo render
    still check PyTorchJobs: no version of either can make them crash."""

    def _run(self, cwd, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", BLOCKED_RUN, *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )

    def test_check_a_pytorchjob_manifest(self, tmp_path):
        (tmp_path / "experiment.yaml").write_text(PYTORCHJOB_EXPERIMENT)
        done = self._run(tmp_path, "check", "experiment.yaml")
        assert 0 == done.returncode, done.stderr
        assert "hpo check: ok: 1 file(s), 0 error(s)" in done.stderr
        assert "not installed" not in done.stderr  # checked, not skipped

    def test_render_a_multi_node_definition(self, repo):
        repo.write(MULTI_NODE_DEFINITION)
        done = self._run(repo.root, "render")
        assert 0 == done.returncode, done.stderr
        experiment = repo.root / "rendered/gpu-cluster-1/demo-exp/experiment-demo-exp.yaml"
        assert "kind: PyTorchJob" in experiment.read_text()

    def test_export_schemas(self, tmp_path):
        done = self._run(tmp_path, "schemas", "export", str(tmp_path / "schemas"))
        assert 0 == done.returncode, done.stderr
        assert (tmp_path / "schemas" / "pytorchjob-kubeflow-v1.json").is_file()
