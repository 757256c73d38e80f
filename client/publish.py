"""tune(open_pull_request=True): put the experiment's files on a branch of origin and open a PR.

The branch `hpo-experiment/<name>` is built from the base branch on origin by the project's one
proposer (`proposal.propose`), which never touches the person's checkout: the working tree, the
index and HEAD stay as they were, whatever is staged or checked out there.

Forge settings default from the environment variables the results job reads (HPO_FORGE,
HPO_FORGE_API_URL, HPO_REPO, HPO_FORGE_TOKEN, HPO_BASE_BRANCH). Git pushes with the person's
own credentials for origin and commits as their configured git identity.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from client.errors import ClientError
from generator.errors import HpoError

BRANCH_PREFIX = "hpo-experiment/"
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


def propose_experiment(
    root: Path,
    name: str,
    files: Mapping[str, str],
    folder: str,
    settings: ForgeSettings,
) -> PullRequestOutcome:
    """Commit `files` (paths under root -> text) on the experiment's branch, `folder` holding
    exactly those of them inside it, and open or update its PR."""
    from proposal.forge import make_forge
    from proposal.git import Git
    from proposal.propose import Proposal, propose

    branch = BRANCH_PREFIX + name
    try:
        # No password prompts in a notebook: a push without credentials fails instead of hanging.
        here = Git(root, env={"GIT_TERMINAL_PROMPT": "0"})
        prefix = here.output("rev-parse", "--show-prefix")  # root may be below the top level
        git = Git(here.output("rev-parse", "--show-toplevel"), env={"GIT_TERMINAL_PROMPT": "0"})
        listing = "\n".join(f"- `{path}`" for path in files)
        proposal = Proposal(
            branch=branch,
            base=settings.base_branch,
            files={prefix + path: text.encode("utf-8") for path, text in files.items()},
            message=f"Add experiment {name}\n\nWritten by KatibClient.tune().\n",
            title=f"Add experiment {name}",
            body=f"Adds the experiment `{name}`, written by `KatibClient.tune()`:\n\n{listing}\n\n"
            "Argo CD creates the Katib Experiment once this is merged; CI's check posts the "
            "worst-case GPU-hours here.\n",
            exact_folders=(prefix + folder,),
        )
        forge = make_forge(settings.forge, settings.api_url, settings.repo, settings.token)
        outcome = propose(git, forge, proposal)
    except HpoError as e:
        raise ClientError(f"pull request for {name}: {e}") from None
    pr = outcome.pr
    return PullRequestOutcome(
        branch,
        outcome.branch_update.action,
        outcome.branch_update.commit,
        outcome.pr_action,
        pr.url if pr else None,
        pr.number if pr else None,
    )
