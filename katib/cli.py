"""`hpo status`, registered from here (the `hpo.commands` entry points of pyproject.toml).

Every `hpo` loads this module to build its parser, including `hpo results` in the results image,
which has none of the generator's validators: the command's modules are imported when it runs.
"""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    from katib.status import run

    return run(args)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "status",
        help="every experiment's state (proposed, running, finished, archived) and GPUs, "
        "per cluster",
        description="List every experiment in experiments/ per cluster: proposed (not at the "
        "revision Argo CD deploys), running (there), finished (results.yaml) or archived "
        "(archive.yaml); the GPUs each holds or will hold once merged, each cluster's gpu_quota "
        "and what is left of it, and the GPU-hours spent where results.yaml says. With "
        "--kubeconfig, also each Experiment's condition on its cluster.",
    )
    add = parser.add_argument
    add(
        "--ref",
        help="the revision to tell running from proposed by (default: the ApplicationSet's "
        "targetRevision in argocd/applicationset.yaml, as the remote of its repoURL has it "
        "when there is one)",
    )
    add("--kubeconfig", metavar="PATH", help="also read the Experiments on the cluster")
    add("--context", help="the kubeconfig context to use (default: its current context)")
    add(
        "--cluster",
        help="the cluster of argocd/clusters.yaml that the kubeconfig reaches (default: the "
        "context's name, or the only cluster)",
    )
    add("--format", choices=("table", "json"), default="table", help="(default: table)")
    parser.set_defaults(func=_run)
    return parser
