"""The module-level contract in docs/architecture.md holds: every import between packages is one
the page allows, and a role's published contracts stay importable without its dependencies."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from tests.packaging.test_layers import _is_reexport

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "architecture.md"
ROLES_PHRASE = "the roles' contracts"


def _table(header: str) -> dict[str, str]:
    """The first column (a backticked name) -> the last column, of the table under `header`."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[-1]
    return rows


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`([a-z_][a-z_.]*)`", cell))


ALLOWED = _table("| package | role | may import |")
CONTRACTS = {role: _names(cell) for role, cell in _table("| role | published contracts |").items()}
PACKAGES = set(ALLOWED)


def _allowed_modules(package: str) -> tuple[set[str], set[str]]:
    """(packages importable whole, single modules importable) for `package`."""
    cell = ALLOWED[package]
    whole = {n for n in _names(cell) if "." not in n and not n.endswith("'s")} & PACKAGES
    modules: set[str] = set()
    if ROLES_PHRASE in cell:
        modules = set().union(*CONTRACTS.values())
    for role in re.findall(r"`([a-z_]+)`'s contracts", cell):
        modules |= CONTRACTS[role]
    whole -= set(CONTRACTS)  # a role is only ever reached through its contracts
    return whole, modules


def _imports(path: Path, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in the file; `from pkg import mod` counts as pkg.mod. A
    module of imports only (a former import path kept working) depends on nothing."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if _is_reexport(tree) and path.name != "__init__.py":
        return []
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in PACKAGES:
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _covered(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


class TestThePageIsReadable:
    """The tables the other tests read are there and name real modules."""

    def test_every_package_has_a_row(self):
        on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
        assert on_disk == PACKAGES

    @pytest.mark.parametrize("module", sorted(set().union(*CONTRACTS.values())))
    def test_every_contract_names_a_module(self, module):
        assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file()


class TestImportsFollowThePage:
    """An import of another package's module that the page does not allow fails here."""

    @pytest.mark.parametrize("package", sorted(PACKAGES))
    def test_each_package_imports_only_what_the_page_allows(self, package):
        whole, modules = _allowed_modules(package)
        forbidden = []
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module in _imports(path):
                head = module.split(".")[0]
                if head == package or head not in PACKAGES:
                    continue
                if head in whole or _covered(module, modules):
                    continue
                forbidden.append(f"{path.relative_to(ROOT)}:{line}: {module}")
        assert [] == forbidden


class TestContractsStandAlone:
    """A published contract imports, at module level, only the standard library and other
    contracts: every image can carry it without its role's dependencies."""

    @pytest.mark.parametrize("module", sorted(set().union(*CONTRACTS.values())))
    def test_module_level_imports_are_the_standard_library_or_contracts(self, module):
        path = (ROOT / Path(*module.split("."))).with_suffix(".py")
        contracts = set().union(*CONTRACTS.values())
        heavy = [
            f"{line}: {name}"
            for line, name in _imports(path, top_level_only=True)
            if name.split(".")[0] not in sys.stdlib_module_names
            and name != "__future__"
            and not _covered(name, contracts)
        ]
        assert [] == heavy
