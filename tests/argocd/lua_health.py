"""Run an Argo CD health script with a real Lua 5.1 runtime, sandboxed the way Argo CD does it.

Argo CD evaluates a custom health script from argocd-cm in gopher-lua (Lua 5.1) with only the
base, table and package libraries (plus a reduced os), the resource as the global `obj`, and
expects a table with `status` and an optional `message`. The runtime here removes every other
library, including the string metatable, so a script that would fail in Argo CD fails here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lupa import lua51

REPO_ROOT = Path(__file__).resolve().parents[2]
HEALTH_DIR = REPO_ROOT / "argocd" / "health"

# What Argo CD accepts from a health script; anything else it reports as Unknown.
VALID_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

_SANDBOX = """
debug.setmetatable("", nil)
string, math, io, os, debug, coroutine = nil, nil, nil, nil, nil, nil
dofile, loadfile = nil, nil
"""


def run_health_script(script: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Evaluate `script` against the Kubernetes object `obj`; return the health table as a dict."""
    lua = lua51.LuaRuntime(register_eval=False)
    lua.execute(_SANDBOX)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(script)
    if lua.eval("type")(result) != "table":
        raise AssertionError(f"health script returned {result!r}, not a table")
    return {str(key): value for key, value in result.items()}


def health_of(kind_file: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Evaluate argocd/health/<kind_file> against `obj`."""
    return run_health_script((HEALTH_DIR / kind_file).read_text(), obj)
