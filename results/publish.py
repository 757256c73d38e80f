"""Compute -> write -> publish: put a result on `hpo-results/<name>` and make sure a PR shows it.

The files are rendered once, so every retry of the push writes the same bytes; the branch rules
(a squash-merged branch starts over, a person's commits stop the job, a lost push race is redone
on the new tip) are the proposer's, shared with `KatibClient.tune()` (`proposal.propose`).
"""

from __future__ import annotations

from collections.abc import Iterable

from generator.spec.results_file import ResultsFile
from proposal.forge import Forge
from proposal.git import Git, Identity
from proposal.propose import Proposal, ProposalOutcome, propose
from results.files import OUTPUT_FILES, render_files
from results.model import ExperimentResult, results_file
from results.render import pr_body, pr_title

BRANCH_PREFIX = "hpo-results/"
FAILED_LABEL = "hpo-failed"


def results_branch(experiment: str) -> str:
    return f"{BRANCH_PREFIX}{experiment}"


def _commit_message(record: ResultsFile) -> str:
    best = record.best_trial
    lines = [pr_title(record), ""]
    if record.status == "Failed":
        lines.append(f"The Experiment failed: {record.reason}")
    if best is not None:
        lines.append(f"Best trial {best.name}; every trial is listed in results.yaml.")
    return "\n".join(lines).rstrip() + "\n"


def results_proposal(
    result: ExperimentResult,
    definition_sha256: str,
    *,
    base: str,
    identity: Identity,
    labels: Iterable[str] = ("hpo-results",),
) -> Proposal:
    folder = f"experiments/{result.experiment}"
    rendered = render_files(result, definition_sha256)
    record = results_file(result, definition_sha256)
    return Proposal(
        branch=results_branch(result.experiment),
        base=base,
        files={f"{folder}/{name}": rendered[name] for name in OUTPUT_FILES},
        message=_commit_message(record),
        title=pr_title(record),
        body=pr_body(record),
        labels=(*labels, *([FAILED_LABEL] if result.failed else [])),
        author=identity,
        bot=True,
    )


def publish(
    git: Git,
    forge: Forge,
    *,
    result: ExperimentResult,
    definition_sha256: str,
    base: str,
    identity: Identity,
    labels: Iterable[str] = ("hpo-results",),
) -> ProposalOutcome:
    proposal = results_proposal(
        result, definition_sha256, base=base, identity=identity, labels=labels
    )
    return propose(git, forge, proposal)
