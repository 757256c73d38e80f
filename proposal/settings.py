"""Where to propose: the forge, its API, the repository, the token and the base branch.

The one reader of these settings. The results Job (`hpo results`, whose Job sets the HPO_*
variables) and the notebook client (`KatibClient.tune(open_pull_request=True)`) both take them
from here, so one variable means the same thing to both. A value given explicitly wins over its
variable; an empty value counts as not given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proposal.errors import ForgeSettingsError

# Each setting and the environment variable it defaults from.
ENVIRONMENT = {
    "forge": "HPO_FORGE",
    "api_url": "HPO_FORGE_API_URL",
    "repo": "HPO_REPO",
    "token": "HPO_FORGE_TOKEN",
    "base_branch": "HPO_BASE_BRANCH",
}
REQUIRED = ("forge", "repo", "token")
FORGES = ("github", "gitlab")
DEFAULT_BASE_BRANCH = "main"


def base_branch(environ: Mapping[str, str] | None = None) -> str:
    """The branch experiments and their results are merged into: HPO_BASE_BRANCH, else main."""
    environ = os.environ if environ is None else environ
    return environ.get(ENVIRONMENT["base_branch"]) or DEFAULT_BASE_BRANCH


@dataclass(frozen=True, kw_only=True)
class ForgeSettings:
    """A forge (GitHub or GitLab) and the repository on it that branches are proposed to."""

    forge: str  # github | gitlab
    repo: str  # owner/name on GitHub, the project path on GitLab
    token: str = field(repr=False)  # never shown in a notebook's output or a log
    api_url: str | None = None  # REST API root; None: the public forge's
    base_branch: str = DEFAULT_BASE_BRANCH  # what pull requests target

    def __post_init__(self) -> None:
        missing = tuple(name for name in REQUIRED if not getattr(self, name))
        if missing:
            raise ForgeSettingsError(f"forge settings: missing {_listed(missing)}", missing)
        if self.forge not in FORGES:
            raise ForgeSettingsError(
                f"forge settings: forge ({ENVIRONMENT['forge']}) must be github or gitlab, "
                f"not {self.forge!r}"
            )

    @classmethod
    def from_environment(
        cls,
        *,
        forge: str | None = None,
        api_url: str | None = None,
        repo: str | None = None,
        token: str | None = None,
        base_branch: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ForgeSettings:
        """Each given value, else its variable (ENVIRONMENT). ForgeSettingsError names every
        required setting that is missing (`missing` holds their field names)."""
        environ = os.environ if environ is None else environ
        given = {
            "forge": forge,
            "api_url": api_url,
            "repo": repo,
            "token": token,
            "base_branch": base_branch,
        }
        values = {
            name: value or environ.get(ENVIRONMENT[name]) or "" for name, value in given.items()
        }
        return cls(
            forge=values["forge"],
            repo=values["repo"],
            token=values["token"],
            api_url=values["api_url"] or None,
            base_branch=values["base_branch"] or DEFAULT_BASE_BRANCH,
        )

    def client(self, **http_options: Any):
        """The forge's REST client for this repository (`proposal.forge.Forge`)."""
        from proposal.forge import make_forge

        return make_forge(self.forge, self.api_url, self.repo, self.token, **http_options)


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} ({ENVIRONMENT[name]})" for name in names)
