"""Import paths of modules that moved keep working: `import generator.render` is
`generator.rendering.render`, the very same module object.

A package lists its moved modules (old dotted name -> new one) and calls `keep_old_paths`; the
finder answers only those names and imports the new home the first time one is asked for, so a
patch or an isinstance check through either name sees one module.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Mapping
from types import ModuleType


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, moves: Mapping[str, str]):
        self.moves = dict(moves)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.moves:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec) -> ModuleType:
        return importlib.import_module(self.moves[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The new home has run already."""


def keep_old_paths(moves: Mapping[str, str]) -> None:
    """Serve each old dotted name in `moves` as the module at its new name."""
    sys.meta_path.append(_OldPaths(moves))
