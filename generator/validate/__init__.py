"""Validation of rendered (or hand-written) Kubernetes objects.

Each validator returns Findings: a JSON path inside the object, a message, and a severity class
("rule" for what a cluster would reject, "policy" for this project's own requirements). The
caller decides how to locate and grade them: for rendered output every finding is an error; for a
hand-written manifest given to `hpo check`, policies are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    path: tuple
    message: str
    kind: str = "rule"  # "rule": the cluster would reject it; "policy": this project requires it


def dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
