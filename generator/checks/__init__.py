"""Checks of one loaded definition: its fields together, its sources, its trainer settings and
search, its algorithm's settings, secrets written as values, and what it can cost.

`generator.checks` was once a single module; its names are still found here.
"""

import importlib


def __getattr__(name: str):
    if not name.startswith("_"):
        former = importlib.import_module("generator.checks.definition")
        if name in vars(former):
            return vars(former)[name]
    raise AttributeError(f"module 'generator.checks' has no attribute {name!r}")
