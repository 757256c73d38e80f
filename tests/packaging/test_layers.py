"""The packages' layering and the images built from them: one way arrows, one role per image."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from tests.storage_init.imagecopy import copy_lines

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "storage_init",
    "trainer",
    "suggestion",
    "generator",
    "katib",
    "proposal",
    "results",
    "local_runner",
    "client",
)
# What each package may import of the others. The container roles stand alone; the trainer and
# the suggestion service read the storage initializer's published contract (the cache layout, the
# exit codes); everything else builds on the generator, and nothing imports the packages above it.
ROLES = {"storage_init", "trainer", "suggestion"}
ALLOWED = {
    "storage_init": set(),
    "trainer": {"storage_init"},
    "suggestion": {"storage_init"},
    "generator": ROLES,
    "katib": {"generator"},
    "proposal": {"generator"},
    "results": {"generator", "katib", "proposal"} | ROLES,
    "local_runner": {"generator", "katib", "results"} | ROLES,
    "client": {"generator", "katib", "proposal", "results"} | ROLES,
}
# Libraries only the generator needs: the container images must not carry them.
GENERATOR_ONLY = {"jsonnet", "kubernetes-validate", "jsonschema-rs", "kubeflow-training"}
MAX_LINES = 400


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _is_reexport(tree: ast.Module) -> bool:
    """A module of imports and __all__ only: a compatibility name, not a dependency."""
    return all(
        isinstance(node, ast.Import | ast.ImportFrom)
        or isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        or isinstance(node, ast.Assign)
        and [getattr(t, "id", "") for t in node.targets] == ["__all__"]
        for node in tree.body
    )


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if _is_reexport(tree) and path.name != "__init__.py":
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _requirements(extra: str, extras: dict[str, list[str]]) -> set[str]:
    """Distribution names an extra installs, following the project's own extras."""
    names = set()
    for requirement in extras[extra]:
        name = re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0].lower()
        if name == "llm-hpo-gitops":
            inner = requirement[requirement.index("[") + 1 : requirement.index("]")]
            for sub in inner.split(","):
                names |= _requirements(sub.strip(), extras)
        else:
            names.add(name)
    return names


class TestArrows:
    """Top-level packages import each other one way only."""

    @pytest.mark.parametrize("package", PACKAGES)
    def test_imports_only_the_packages_below(self, package):
        imported = set().union(*(_imported_packages(p) for p in _sources(package)))
        climbing = (imported & set(PACKAGES)) - ALLOWED[package] - {package}
        assert set() == climbing

    def test_the_kubernetes_client_lives_in_one_package(self):
        users = {
            pkg for pkg in PACKAGES for p in _sources(pkg) if "pykube" in _imported_packages(p)
        }
        assert {"katib"} == users


class TestReadable:
    """Every source file outside the tests can be read in one sitting."""

    def test_no_source_file_is_longer_than_the_limit(self):
        long = {
            str(path.relative_to(ROOT)): lines
            for package in PACKAGES
            for path in _sources(package)
            if (lines := path.read_text(encoding="utf-8").count("\n")) > MAX_LINES
        }
        assert {} == long


class TestImages:
    """Each image copies its role's packages and installs only its role's extra."""

    @pytest.fixture(scope="class")
    def extras(self) -> dict[str, list[str]]:
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        return project["project"]["optional-dependencies"]

    @staticmethod
    def _installed_extra(dockerfile: str) -> str:
        text = (ROOT / "images" / dockerfile).read_text(encoding="utf-8")
        [extra] = re.findall(r'pip install (?:--editable )?"\.\[(\w+)\]"', text)
        return extra

    @pytest.mark.parametrize(
        ("dockerfile", "extra"),
        [
            ("storage-init.Dockerfile", "storage"),
            ("trainer.Dockerfile", "trainer"),
            ("results.Dockerfile", "results"),
            ("suggestion.Dockerfile", "suggestion"),
        ],
    )
    def test_each_image_installs_its_own_extra(self, dockerfile, extra):
        assert extra == self._installed_extra(dockerfile)

    @pytest.mark.parametrize("extra", ["storage", "trainer", "suggestion"])
    def test_container_roles_carry_none_of_the_generators_libraries(self, extras, extra):
        assert set() == _requirements(extra, extras) & GENERATOR_ONLY

    def test_no_training_libraries_in_the_results_image(self, extras):
        assert set() == _requirements("results", extras) & (GENERATOR_ONLY | {"torch"})

    def test_the_suggestion_image_installs_the_torch_its_extra_asks_for(self, extras):
        """hpo-gp needs torch; the image installs a CPU build of it before the extra, so that
        pip does not fetch a CUDA one, and that build must satisfy the extra."""
        [wanted] = [r for r in extras["suggestion"] if re.match(r"torch\b", r)]
        text = (ROOT / "images" / "suggestion.Dockerfile").read_text(encoding="utf-8")
        [installed] = re.findall(
            r'--index-url https://download\.pytorch\.org/whl/cpu "([^"]+)"', text
        )
        assert wanted == installed
        assert set() == _requirements("suggestion", extras) & {"transformers", "peft", "datasets"}

    def test_nothing_is_installed_without_an_extra(self):
        project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        assert [] == project["project"]["dependencies"]

    @pytest.mark.parametrize(
        ("dockerfile", "packages"),
        [
            ("storage-init.Dockerfile", {"storage_init"}),
            ("trainer.Dockerfile", {"storage_init", "trainer"}),
            (
                "results.Dockerfile",
                {
                    "generator",
                    "katib",
                    "proposal",
                    "results",
                    "storage_init",
                    "trainer",
                    "suggestion",
                },
            ),
            ("suggestion.Dockerfile", {"storage_init", "suggestion"}),
        ],
    )
    def test_each_image_copies_its_role_and_what_that_role_imports(self, dockerfile, packages):
        copied = {s for paths, _ in copy_lines(ROOT / "images" / dockerfile) for s in paths}
        assert packages == copied & set(PACKAGES)
