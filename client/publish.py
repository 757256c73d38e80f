"""tune(open_pull_request=True): put the experiment's files on a branch of origin and open a PR.

The branch `hpo-experiment/<name>` is built from the base branch on origin by the project's one
proposer (`proposal.propose`), which never touches the person's checkout: the working tree, the
index and HEAD stay as they were, whatever is staged or checked out there.

Forge settings are `proposal.settings.ForgeSettings`, given whole (`forge_settings=`) or, as
before, as five keyword arguments that default from the results job's environment variables
(HPO_FORGE, HPO_FORGE_API_URL, HPO_REPO, HPO_FORGE_TOKEN, HPO_BASE_BRANCH). Git pushes with the
person's own credentials for origin and commits as their configured git identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from client.errors import ClientError
from generator.errors import HpoError
from proposal.errors import ForgeSettingsError
from proposal.settings import ENVIRONMENT, ForgeSettings

BRANCH_PREFIX = "hpo-experiment/"
# tune()'s and edit_experiment_budget()'s keyword arguments, and the setting each one gives.
KEYWORDS = {
    "forge": "forge",
    "forge_api_url": "api_url",
    "forge_repo": "repo",
    "forge_token": "token",
    "base_branch": "base_branch",
}


@dataclass(frozen=True)
class PullRequestOutcome:
    """What open_pull_request did: the branch, its tip, and the PR (None when not needed)."""

    branch: str
    action: str  # "pushed" | "unchanged" | "nothing-to-propose" (the base already has it)
    commit: str | None
    pr_action: str | None  # "created" | "updated" | "unchanged"
    pr_url: str | None
    pr_number: int | None


def pull_request_settings(
    open_pull_request: bool, settings: ForgeSettings | None = None, **keywords: str | None
) -> ForgeSettings | None:
    """The settings to propose with, None when no pull request is asked for.

    `settings` is used as given, and the environment is not read; without it, each keyword
    argument (KEYWORDS) wins over its environment variable. Giving both is refused, naming the
    keyword arguments, as is `settings` without `open_pull_request=True`.
    """
    passed = [f"{name}=" for name, value in keywords.items() if value is not None]
    if settings is not None:
        if not isinstance(settings, ForgeSettings):
            raise ClientError(
                f"forge_settings= takes a ForgeSettings (from proposal.settings), "
                f"not {type(settings).__name__}"
            )
        if passed:
            raise ClientError(
                f"give forge_settings= or {', '.join(passed)}, not both: the settings object "
                "already holds every forge setting"
            )
        if not open_pull_request:
            raise ClientError("forge_settings= is used only with open_pull_request=True")
        return settings
    if not open_pull_request:
        return None
    try:
        return ForgeSettings.from_environment(
            **{KEYWORDS[name]: value for name, value in keywords.items()}
        )
    except ForgeSettingsError as e:
        if not e.missing:
            raise ClientError(str(e)) from None
        argument = {setting: name for name, setting in KEYWORDS.items()}
        needs = ", ".join(f"{argument[m]}= ({ENVIRONMENT[m]})" for m in e.missing)
        raise ClientError(f"open_pull_request=True needs {needs}") from None


def propose_experiment(
    root: Path,
    name: str,
    files: Mapping[str, str],
    folder: str,
    settings: ForgeSettings,
) -> PullRequestOutcome:
    """Commit `files` (paths under root -> text) on the experiment's branch, `folder` holding
    exactly those of them inside it, and open or update its PR."""
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
        outcome = propose(git, settings.client(), proposal)
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
