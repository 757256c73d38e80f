"""Compute -> write -> publish: put a result on its branch and make sure a PR shows it.

The git working tree and the forge client are passed in, so the same code runs against a real
remote and, in tests, a bare repository and a local forge server.

Branch rules:
- the branch is `hpo-results/<name>`, built from the base branch; only that ref is ever pushed;
- no commit when the files come out identical (a rerun, or a second job at the same time);
- a push rejected because the branch moved is retried on the new tip (the files are rewritten
  there, which is a rebase of our one change);
- a branch carrying a commit by anyone but the results identity belongs to a person now, and
  the job stops without touching it or its PR;
- when the base already holds exactly these files there is nothing to propose, whatever the
  branch's history (a squash or rebase merge leaves the branch's tip outside the base);
- a branch of results commits only, with no open PR and whose files the base holds, was
  squash- or rebase-merged: it starts over from the base (replacing the old tip) instead of
  dragging old commits into a new PR.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from results.errors import BranchTakenOver, PushRetriesExhausted
from results.files import OUTPUT_FILES, definition_sha256, render_files, write_rendered
from results.forge import Forge, PullRequest, open_or_update
from results.git import Git, Identity
from results.model import ExperimentResult
from results.render import pr_body, pr_title

log = logging.getLogger(__name__)

BRANCH_PREFIX = "hpo-results/"
FAILED_LABEL = "hpo-failed"


def results_branch(experiment: str) -> str:
    return f"{BRANCH_PREFIX}{experiment}"


@dataclass(frozen=True)
class BranchUpdate:
    action: str  # "pushed" | "unchanged" | "nothing-to-propose"
    commit: str | None  # the branch's tip afterwards; None when there is no branch


@dataclass(frozen=True)
class PublishOutcome:
    branch: str
    branch_update: BranchUpdate
    pr_action: str | None  # "created" | "updated" | "unchanged"; None when no PR is needed
    pr: PullRequest | None


def _commit_message(result: ExperimentResult) -> str:
    best = result.best_trial
    lines = [pr_title(result), ""]
    if result.failed:
        lines.append(f"The Experiment failed: {result.reason}")
    if best is not None:
        lines.append(f"Best trial {best.name}; every trial is listed in results.yaml.")
    return "\n".join(lines).rstrip() + "\n"


def _blob_id(data: bytes) -> str:
    """The id git gives a blob of these bytes (SHA-1 object format)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _base_holds(git: Git, base_tip: str, rendered: dict[str, bytes], folder: str) -> bool:
    paths = {f"{folder}/{name}": data for name, data in rendered.items()}
    held = git.blob_ids(base_tip, list(paths))
    return all(held.get(path) == _blob_id(data) for path, data in paths.items())


def _base_holds_tip(git: Git, base_tip: str, tip: str, paths: list[str]) -> bool:
    on_tip = git.blob_ids(tip, paths)
    return bool(on_tip) and on_tip == git.blob_ids(base_tip, paths)


def update_results_branch(
    git: Git,
    *,
    result: ExperimentResult,
    definition_text: str | bytes,
    base: str,
    identity: Identity,
    max_attempts: int = 5,
    pr_is_open: Callable[[], bool] = lambda: True,
) -> BranchUpdate:
    branch = results_branch(result.experiment)
    folder = f"experiments/{result.experiment}"
    paths = [f"{folder}/{name}" for name in OUTPUT_FILES]
    rendered = render_files(result, definition_text)  # once: every attempt writes the same bytes
    for attempt in range(1, max_attempts + 1):
        tip = git.remote_head(branch)
        git.fetch(base, *([branch] if tip else []))
        base_tip = git.output("rev-parse", f"refs/remotes/origin/{base}")
        if _base_holds(git, base_tip, rendered, folder):
            return BranchUpdate("nothing-to-propose", None)
        merged = tip is not None and git.is_ancestor(tip, base_tip)
        if tip is not None and not merged:
            others = [
                f"{name} <{email}>"
                for name, email in git.authors(f"{base_tip}..{tip}")
                if email.lower() != identity.email.lower()
            ]
            if others:
                raise BranchTakenOver(
                    f"{branch} has commits by {', '.join(sorted(set(others)))}; leaving it and its "
                    "pull request to them (delete the branch to let the results job write it again)"
                )
            # Squash- or rebase-merged: the base holds the tip's files under other commits, which
            # must not come back in a new PR. (A bot branch whose files the base lacks is another
            # job's fresh push, whose PR may not be open yet: it is built upon.)
            merged = _base_holds_tip(git, base_tip, tip, paths) and not pr_is_open()
        # A merged branch starts over from the base, which already holds its commits.
        start = tip if tip is not None and not merged else base_tip
        git.run("checkout", "--quiet", "--force", "-B", branch, start)
        write_rendered(git.workdir / folder, rendered)
        git.run("add", "--", *paths)
        if git.run("diff", "--cached", "--quiet", check=False).returncode == 0:
            if tip is None or merged:
                return BranchUpdate("nothing-to-propose", None)
            return BranchUpdate("unchanged", tip)
        commit = git.commit(_commit_message(result), identity)
        replacing = tip if tip is not None and not git.is_ancestor(tip, commit) else None
        if git.push_branch(branch, replacing=replacing):
            log.info("pushed %s to %s", commit[:12], branch)
            return BranchUpdate("pushed", commit)
        log.info("push of %s lost a race (attempt %d); retrying on the new tip", branch, attempt)
    raise PushRetriesExhausted(f"{branch}: every one of {max_attempts} pushes was rejected")


def publish(
    git: Git,
    forge: Forge,
    *,
    result: ExperimentResult,
    definition_text: str | bytes,
    base: str,
    identity: Identity,
    labels: Iterable[str] = ("hpo-results",),
) -> PublishOutcome:
    branch = results_branch(result.experiment)
    update = update_results_branch(
        git,
        result=result,
        definition_text=definition_text,
        base=base,
        identity=identity,
        pr_is_open=lambda: forge.find_open(branch) is not None,
    )
    if update.action == "nothing-to-propose":
        log.info("the base branch already holds these results; no pull request needed")
        return PublishOutcome(branch, update, None, None)
    wanted = [*labels, *([FAILED_LABEL] if result.failed else [])]
    digest = definition_sha256(definition_text)
    action, pr = open_or_update(
        forge,
        branch=branch,
        base=base,
        title=pr_title(result),
        body=pr_body(result, digest),
        labels=wanted,
    )
    return PublishOutcome(branch, update, action, pr)
