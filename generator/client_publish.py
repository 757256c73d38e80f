"""tune(open_pull_request=True): put the experiment's files on a branch of origin and open a PR.

The branch `hpo-experiment/<name>` is built from the base branch on origin without touching the
user's checkout: a temporary index (GIT_INDEX_FILE) starts from the base's tree, takes the
experiment's files as blobs, and `git commit-tree` makes the commit that is pushed. The working
tree, the real index and HEAD stay as they were, whatever is staged or checked out there.

Forge settings default from the environment variables the results job reads (HPO_FORGE,
HPO_FORGE_API_URL, HPO_REPO, HPO_FORGE_TOKEN, HPO_BASE_BRANCH), and the pull request goes
through the results job's forge client. Git pushes with the user's own credentials for origin.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.client_params import ClientError
from generator.errors import HpoError

BRANCH_PREFIX = "hpo-experiment/"
REMOTE = "origin"
FORGES = ("github", "gitlab")


@dataclass(frozen=True)
class ForgeSettings:
    forge: str
    api_url: str | None
    repo: str
    token: str
    base_branch: str


@dataclass(frozen=True)
class PullRequestOutcome:
    """What open_pull_request did: the branch, its tip, and the PR (None when not needed)."""

    branch: str
    action: str  # "pushed" | "unchanged" | "nothing-to-propose" (the base already has it)
    commit: str | None
    pr_action: str | None  # "created" | "updated" | "unchanged"
    pr_url: str | None
    pr_number: int | None


def forge_settings(
    forge: str | None = None,
    api_url: str | None = None,
    repo: str | None = None,
    token: str | None = None,
    base_branch: str | None = None,
) -> ForgeSettings:
    """The given values, else the results job's environment variables; ClientError if missing."""
    env = os.environ
    forge = forge or env.get("HPO_FORGE") or ""
    repo = repo or env.get("HPO_REPO") or ""
    token = token or env.get("HPO_FORGE_TOKEN") or ""
    missing = [
        label
        for label, value in (
            ("forge= (HPO_FORGE)", forge),
            ("forge_repo= (HPO_REPO)", repo),
            ("forge_token= (HPO_FORGE_TOKEN)", token),
        )
        if not value
    ]
    if missing:
        raise ClientError(f"open_pull_request=True needs {', '.join(missing)}")
    if forge not in FORGES:
        raise ClientError(f"forge must be github or gitlab, not {forge!r}")
    return ForgeSettings(
        forge=forge,
        api_url=api_url or env.get("HPO_FORGE_API_URL") or None,
        repo=repo,
        token=token,
        base_branch=base_branch or env.get("HPO_BASE_BRANCH") or "main",
    )


def propose(
    root: Path,
    name: str,
    files: list[str],
    folder: str,
    settings: ForgeSettings,
) -> PullRequestOutcome:
    """Commit `files` (paths under root, as written in the working tree) on the experiment's
    branch, `folder` holding exactly those of them inside it, and open or update its PR."""
    from results.forge import make_forge, open_or_update

    branch = BRANCH_PREFIX + name
    try:
        with tempfile.TemporaryDirectory(prefix="hpo-index-") as scratch:
            forge = make_forge(settings.forge, settings.api_url, settings.repo, settings.token)
            update = _update_branch(
                root,
                name,
                branch,
                files,
                folder,
                settings,
                scratch,
                pr_is_open=lambda: forge.find_open(branch) is not None,
            )
            if update.action == "nothing-to-propose":
                return update
            pr_action, pr = open_or_update(
                forge,
                branch=branch,
                base=settings.base_branch,
                title=f"Add experiment {name}",
                body=_body(name, files),
                labels=(),
            )
    except HpoError as e:
        raise ClientError(f"pull request for {name}: {e}") from None
    return PullRequestOutcome(branch, update.action, update.commit, pr_action, pr.url, pr.number)


def _update_branch(
    root: Path,
    name: str,
    branch: str,
    files: list[str],
    folder: str,
    settings: ForgeSettings,
    scratch: str,
    *,
    pr_is_open: Callable[[], bool],
) -> PullRequestOutcome:
    from results.git import Git

    # No password prompts in a notebook: a push without credentials fails instead of hanging.
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_INDEX_FILE": str(Path(scratch) / "index")}
    # Paths are the git top level's: root may be a folder below it.
    prefix = Git(root).output("rev-parse", "--show-prefix")
    git = Git(Git(root).output("rev-parse", "--show-toplevel"), env=env)
    base = settings.base_branch
    tip = git.remote_head(branch)
    git.fetch(base, *([branch] if tip else []))
    base_tip = git.output("rev-parse", f"refs/remotes/{REMOTE}/{base}^{{commit}}")
    wanted = [prefix + path for path in files]
    blobs = git.output("hash-object", "-w", "--", *wanted).split()
    # The base may hold these very files under other commits (a squash or rebase merge).
    if _tree_with(git, base_tip, wanted, blobs, prefix + folder) == _tree_of(git, base_tip):
        return PullRequestOutcome(branch, "nothing-to-propose", None, None, None, None)
    # An open branch keeps what is on it (a reviewer's fix); a merged one starts over, and so
    # does a squash-merged one: base holds its files and no PR is open for it any more.
    merged = tip is None or git.is_ancestor(tip, base_tip)
    if not merged and git.blob_ids(tip, wanted) == git.blob_ids(base_tip, wanted):
        merged = not pr_is_open()
    parent = base_tip if merged else tip
    tree = _tree_with(git, parent, wanted, blobs, prefix + folder)
    if tree == _tree_of(git, parent):
        return PullRequestOutcome(branch, "unchanged", tip, None, None, None)
    verb = "Update" if parent == tip else "Add"
    message = f"{verb} experiment {name}\n\nWritten by KatibClient.tune().\n"
    commit = git.output("commit-tree", tree, "-p", parent, "-m", message)
    # No force: a branch that moved since the lookup is someone else's newer work. A merged
    # branch being replaced is overwritten only while it still points where it was seen.
    lease = [f"--force-with-lease=refs/heads/{branch}:{tip}"] if tip and parent != tip else []
    git.run("push", "--quiet", *lease, REMOTE, f"{commit}:refs/heads/{branch}")
    return PullRequestOutcome(branch, "pushed", commit, None, None, None)


def _tree_of(git, revision: str) -> str:
    return git.output("rev-parse", f"{revision}^{{tree}}")


def _tree_with(git, parent: str, wanted: list[str], blobs: list[str], folder: str) -> str:
    """The tree of `parent` with `wanted` set to `blobs` and nothing else left in `folder`."""
    git.run("read-tree", parent)
    cacheinfo = []
    for blob, path in zip(blobs, wanted, strict=True):
        cacheinfo += ["--cacheinfo", f"100644,{blob},{path}"]
    git.run("update-index", "--add", *cacheinfo)
    stale = [p for p in git.output("ls-files", "--", folder).splitlines() if p]
    stale = [p for p in stale if p not in wanted]
    if stale:
        git.run("update-index", "--force-remove", "--", *stale)
    return git.output("write-tree")


def _body(name: str, files: list[str]) -> str:
    listing = "\n".join(f"- `{path}`" for path in files)
    return (
        f"Adds the experiment `{name}`, written by `KatibClient.tune()`:\n\n{listing}\n\n"
        "Argo CD creates the Katib Experiment once this is merged; CI's check posts the "
        "worst-case GPU-hours here.\n"
    )
