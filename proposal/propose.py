"""Propose files on a branch and make sure one pull request shows them.

The one branch-and-PR proposer of the project: the results Job proposes `hpo-results/<name>`,
and `KatibClient.tune()` proposes `hpo-experiment/<name>`. The git working tree and the forge
client are passed in, so the same code runs against a real remote and, in tests, a bare
repository and a local forge server.

The commit is built without touching any working tree: a temporary index (GIT_INDEX_FILE) starts
from the parent's tree, takes the files as blobs, and `git commit-tree` makes the commit that is
pushed. A person's checkout keeps its files, index and HEAD, whatever is staged there.

Branch rules:
- the branch is built from the base branch on origin; only that ref is ever pushed;
- when the base already holds exactly these files there is nothing to propose, whatever the
  branch's history (a squash or rebase merge leaves the branch's tip outside the base);
- no commit when the branch already holds them (a rerun, or a second job at the same time);
- a push rejected because the branch moved is redone on the new tip (a rebase of our change);
- a branch whose files the base holds and whose PR is no longer open was squash- or
  rebase-merged: it starts over from the base instead of dragging old commits into a new PR;
- a bot's branch (`Proposal.bot`) carrying a commit by anyone else belongs to a person now: the
  proposer stops without touching it or its PR. A person's branch keeps what reviewers add.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from proposal.errors import BranchTakenOver, PushRetriesExhausted
from proposal.forge import Forge, PullRequest, open_or_update
from proposal.git import Git, Identity

log = logging.getLogger(__name__)

REMOTE = "origin"


@dataclass(frozen=True)
class Proposal:
    """These files on `branch`, made from `base`, shown by one pull request."""

    branch: str
    base: str
    files: Mapping[str, bytes]  # path from the repository's top -> content
    message: str
    title: str
    body: str
    labels: tuple[str, ...] = ()
    # Folders that must hold nothing but the files of `files` inside them (stale ones go).
    exact_folders: tuple[str, ...] = ()
    # The commits' author; None: the checkout's own git identity.
    author: Identity | None = None
    # The branch is the author's alone: a commit by anyone else means a person took it over.
    bot: bool = False


@dataclass(frozen=True)
class BranchUpdate:
    action: str  # "pushed" | "unchanged" | "nothing-to-propose"
    commit: str | None  # the branch's tip afterwards; None when there is no branch


@dataclass(frozen=True)
class ProposalOutcome:
    branch: str
    branch_update: BranchUpdate
    pr_action: str | None  # "created" | "updated" | "unchanged"; None when no PR is needed
    pr: PullRequest | None


def propose(git: Git, forge: Forge, proposal: Proposal) -> ProposalOutcome:
    """Update the branch, then open or update its pull request when there is one to show."""
    branch = proposal.branch
    update = update_branch(git, proposal, pr_is_open=lambda: forge.find_open(branch) is not None)
    if update.action == "nothing-to-propose":
        log.info("%s already holds these files; no pull request needed", proposal.base)
        return ProposalOutcome(branch, update, None, None)
    action, pr = open_or_update(
        forge,
        branch=branch,
        base=proposal.base,
        title=proposal.title,
        body=proposal.body,
        labels=proposal.labels,
    )
    return ProposalOutcome(branch, update, action, pr)


def update_branch(
    git: Git,
    proposal: Proposal,
    *,
    pr_is_open: Callable[[], bool] = lambda: True,
    max_attempts: int = 5,
) -> BranchUpdate:
    """Put the proposal's files on its branch of origin (see the module's rules)."""
    branch, paths = proposal.branch, sorted(proposal.files)
    with tempfile.TemporaryDirectory(prefix="hpo-index-") as scratch:
        index = git.with_env(GIT_INDEX_FILE=str(Path(scratch) / "index"))
        blobs = {path: git.write_blob(proposal.files[path]) for path in paths}
        for attempt in range(1, max_attempts + 1):
            tip = git.remote_head(branch)
            git.fetch(proposal.base, *([branch] if tip else []))
            base_tip = git.output("rev-parse", f"refs/remotes/{REMOTE}/{proposal.base}^{{commit}}")
            if _tree_with(index, base_tip, blobs, proposal) == _tree_of(git, base_tip):
                return BranchUpdate("nothing-to-propose", None)
            merged = tip is None or git.is_ancestor(tip, base_tip)
            if not merged:
                if proposal.bot:
                    _refuse_if_taken_over(git, proposal, base_tip, tip)
                # Squash- or rebase-merged: the base holds the tip's files under other commits.
                # (A branch whose files the base lacks is someone's fresh push: built upon.)
                merged = _base_holds_tip(git, base_tip, tip, paths) and not pr_is_open()
            parent = base_tip if merged else tip
            tree = _tree_with(index, parent, blobs, proposal)
            if tree == _tree_of(git, parent):
                return BranchUpdate("unchanged", tip)
            commit = _commit(git, tree, parent, proposal)
            replacing = tip if tip is not None and parent != tip else None
            if git.push_branch(branch, source=commit, replacing=replacing):
                log.info("pushed %s to %s", commit[:12], branch)
                return BranchUpdate("pushed", commit)
            log.info("push of %s lost a race (attempt %d); again on the new tip", branch, attempt)
    raise PushRetriesExhausted(f"{branch}: every one of {max_attempts} pushes was rejected")


def _refuse_if_taken_over(git: Git, proposal: Proposal, base_tip: str, tip: str) -> None:
    email = proposal.author.email.lower() if proposal.author else ""
    authors = git.authors(f"{base_tip}..{tip}")
    others = sorted({f"{name} <{mail}>" for name, mail in authors if mail.lower() != email})
    if others:
        raise BranchTakenOver(
            f"{proposal.branch} has commits by {', '.join(others)}; leaving it and its pull "
            "request to them (delete the branch to let the job write it again)"
        )


def _base_holds_tip(git: Git, base_tip: str, tip: str, paths: list[str]) -> bool:
    on_tip = git.blob_ids(tip, paths)
    return bool(on_tip) and on_tip == git.blob_ids(base_tip, paths)


def _tree_of(git: Git, revision: str) -> str:
    return git.output("rev-parse", f"{revision}^{{tree}}")


def _tree_with(index: Git, parent: str, blobs: Mapping[str, str], proposal: Proposal) -> str:
    """The tree of `parent` with the proposal's files set, and its exact folders pruned."""
    index.run("read-tree", parent)
    cacheinfo = []
    for path, blob in blobs.items():
        cacheinfo += ["--cacheinfo", f"100644,{blob},{path}"]
    index.run("update-index", "--add", *cacheinfo)
    if proposal.exact_folders:
        listed = index.output("ls-files", "--", *proposal.exact_folders).splitlines()
        stale = [path for path in listed if path and path not in blobs]
        if stale:
            index.run("update-index", "--force-remove", "--", *stale)
    return index.output("write-tree")


def _commit(git: Git, tree: str, parent: str, proposal: Proposal) -> str:
    if proposal.author is None:
        return git.output("commit-tree", tree, "-p", parent, "-m", proposal.message)
    who = proposal.author
    signed_by = git.with_env(
        GIT_AUTHOR_NAME=who.name,
        GIT_AUTHOR_EMAIL=who.email,
        GIT_COMMITTER_NAME=who.name,
        GIT_COMMITTER_EMAIL=who.email,
    )
    return signed_by.output(
        "-c", "commit.gpgsign=false", "commit-tree", tree, "-p", parent, "-m", proposal.message
    )
