"""`hpo katib-config`: register the project's suggestion service with a cluster's Katib.

Katib keeps its configuration as one YAML document inside the `katib-config` ConfigMap, so a
Kubernetes patch cannot add list entries to it. This reads the live ConfigMap on standard input,
puts the entries of argocd/katib-config-patch.yaml into its `runtime.suggestions` (replacing
entries of the same algorithmName, keeping Katib's own), and prints the ConfigMap to apply.
Running it again changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from generator.errors import HpoError

PATCH = "argocd/katib-config-patch.yaml"
CONFIG_KEY = "katib-config.yaml"
# What the API server adds to an object it returns, which a manifest to apply must not carry.
SERVER_FIELDS = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation")


class KatibConfigError(HpoError):
    """The input is not the katib-config ConfigMap, or the patch is not a KatibConfig."""


def merged(configmap_text: str, patch_text: str) -> str:
    """The ConfigMap with the patch's suggestion entries in its KatibConfig."""
    configmap = yaml.safe_load(configmap_text)
    if not isinstance(configmap, dict) or configmap.get("kind") != "ConfigMap":
        raise KatibConfigError("standard input is not a ConfigMap (kubectl get configmap -o yaml)")
    text = (configmap.get("data") or {}).get(CONFIG_KEY)
    if text is None:
        raise KatibConfigError(f"the ConfigMap has no data.{CONFIG_KEY}: is it katib-config?")
    config = yaml.safe_load(text) or {}
    ours = (yaml.safe_load(patch_text) or {}).get("runtime", {}).get("suggestions")
    if not isinstance(ours, list) or not ours:
        raise KatibConfigError(f"{PATCH} lists no runtime.suggestions")
    runtime = config.setdefault("runtime", {})
    entries = list(runtime.get("suggestions") or [])
    for entry in ours:
        names = [e.get("algorithmName") for e in entries]
        if entry["algorithmName"] in names:
            entries[names.index(entry["algorithmName"])] = entry
        else:
            entries.append(entry)
    runtime["suggestions"] = entries
    configmap["data"][CONFIG_KEY] = yaml.safe_dump(config, sort_keys=False)
    metadata = configmap.get("metadata") or {}
    for field in SERVER_FIELDS:
        metadata.pop(field, None)
    configmap.pop("status", None)
    return yaml.safe_dump(configmap, sort_keys=False)


def run(args: argparse.Namespace) -> int:
    from generator.commands.project import find_root

    patch = Path(args.patch) if args.patch else find_root() / PATCH
    sys.stdout.write(merged(sys.stdin.read(), patch.read_text(encoding="utf-8")))
    return 0


def register(commands) -> None:
    parser = commands.add_parser(
        "katib-config",
        help="register the hpo-* algorithms in a katib-config ConfigMap read from stdin",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--patch", help=f"the suggestion entries (default: {PATCH})")
    parser.set_defaults(func=run)
