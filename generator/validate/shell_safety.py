"""Trial arguments that survive the shell Katib's metrics collector runs them through.

Katib's pod webhook runs the primary container of StdOut, File and TensorFlowEvent trials as
`sh -c "<command and args joined by spaces>"`, unquoted; the other pods of a multi-node trial run
the arguments as they are (katib#2587). An argument is safe in both only when the shell leaves it
alone, so the generator renders only such arguments and this check refuses any other.
"""

from __future__ import annotations

import re

from generator.validate import Finding
from generator.validate.katib_admission import PLACEHOLDER
from generator.validate.pod_policy import containers

SHELL_INERT = re.compile(r"^[A-Za-z0-9_.,:/+=@%-]+$")
WRAPPED_COLLECTORS = ("StdOut", "File", "TensorFlowEvent")


def shell_findings(experiment: dict) -> list[Finding]:
    """Trial arguments the collector's `sh -c` would split, expand or run (katib#2587)."""
    spec = experiment.get("spec") or {}
    collector = ((spec.get("metricsCollectorSpec") or {}).get("collector") or {}).get("kind")
    trial = (spec.get("trialTemplate") or {}).get("trialSpec")
    if collector not in WRAPPED_COLLECTORS or not isinstance(trial, dict):
        return []
    findings = []
    base = ("spec", "trialTemplate", "trialSpec")
    for path, container in containers(trial):
        command = list(container.get("command") or [])
        for j, word in enumerate(command + list(container.get("args") or [])):
            # Katib substitutes trial parameters before the shell sees the text.
            if not SHELL_INERT.match(PLACEHOLDER.sub("1", str(word))):
                field, index = ("command", j) if j < len(command) else ("args", j - len(command))
                findings.append(
                    Finding(
                        base + path + (field, index),
                        f"{word!r} is changed by the shell Katib's metrics collector runs the "
                        "trial through; use only letters, digits and _.,:/+=@%-",
                        "policy",
                    )
                )
    return findings
