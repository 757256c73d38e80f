"""Real git through subprocess: clone, fetch, commit and push one results branch.

Credentials never reach argv or .git/config: an HTTPS token travels as an extra HTTP header in
git's environment-only configuration (GIT_CONFIG_COUNT), an SSH key through GIT_SSH_COMMAND,
and both are scrubbed from any error message.
"""

from __future__ import annotations

import base64
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.errors import GitError

# The user name each forge expects next to a token in HTTP basic auth.
TOKEN_USERS = {"github": "x-access-token", "gitlab": "oauth2"}


@dataclass(frozen=True)
class Identity:
    """Who the results commits are by; commits by anyone else mark the branch as a person's."""

    name: str
    email: str


def auth_environment(
    url: str,
    *,
    token: str | None,
    forge: str | None,
    ssh_key: str | None = None,
    known_hosts: str | None = None,
) -> dict[str, str]:
    """Environment variables that let git authenticate to `url` without putting secrets in argv."""
    env = {"GIT_TERMINAL_PROMPT": "0"}  # fail instead of waiting for a password nobody types
    if token and url.startswith(("https://", "http://")):
        user = TOKEN_USERS.get(forge or "", "x-access-token")
        basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}",
        )
    if ssh_key:
        command = f"ssh -i {shlex.quote(ssh_key)} -o IdentitiesOnly=yes"
        if known_hosts:  # a pod has no ~/.ssh: the host keys come from a mounted file
            command += f" -o UserKnownHostsFile={shlex.quote(known_hosts)}"
        env["GIT_SSH_COMMAND"] = command
    return env


class Git:
    """git commands in one working tree, with errors as GitError and secrets scrubbed."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self._given_env = dict(env or {})
        self._env = {**os.environ, **self._given_env}
        # The auth header carries the token base64-encoded; never print that form either.
        encoded = [
            value.rsplit(" ", 1)[-1]
            for key, value in (env or {}).items()
            if key.startswith("GIT_CONFIG_VALUE_") and value.startswith("Authorization:")
        ]
        self._secrets = [s for s in (*secrets, *encoded) if s]

    def with_env(self, **extra: str) -> Git:
        """The same working tree and secrets, with more environment variables for git."""
        return Git(self.workdir, env={**self._given_env, **extra}, secrets=self._secrets)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            ["git", *args],
            cwd=self.workdir,
            env=self._env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and completed.returncode != 0:
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            last = detail[-1] if detail else f"exit status {completed.returncode}"
            raise GitError(self.scrub(f"git {args[0]} failed in {self.workdir}: {last}"))
        return completed

    def output(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def write_blob(self, data: bytes) -> str:
        """Store `data` as a blob in the repository; its id."""
        stored = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=self.workdir,
            env=self._env,
            input=data,
            capture_output=True,
            check=False,
        )
        if stored.returncode != 0:
            reason = stored.stderr.decode("utf-8", "replace").strip() or "no reason given"
            raise GitError(self.scrub(f"git hash-object failed in {self.workdir}: {reason}"))
        return stored.stdout.decode("ascii").strip()

    @classmethod
    def clone(
        cls,
        url: str,
        dest: str | os.PathLike[str],
        *,
        branch: str,
        env: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
    ) -> Git:
        """Clone only `branch`; the results branch is fetched on demand."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        runner = cls(dest.parent, env=env, secrets=secrets)
        runner.run(
            "clone", "--quiet", "--no-tags", "--single-branch", "--branch", branch, url, str(dest)
        )
        return cls(dest, env=env, secrets=secrets)

    def remote_head(self, branch: str) -> str | None:
        """The commit `branch` points to on origin, or None when it does not exist there."""
        listing = self.output("ls-remote", "--heads", "origin", f"refs/heads/{branch}")
        return listing.split()[0] if listing else None

    def fetch(self, *branches: str) -> None:
        refspecs = [f"+refs/heads/{b}:refs/remotes/origin/{b}" for b in branches]
        self.run("fetch", "--quiet", "--no-tags", "origin", *refspecs)

    def blob_ids(self, revision: str, paths: Sequence[str]) -> dict[str, str]:
        """path -> blob id of each of `paths` that `revision` holds."""
        listing = self.output("ls-tree", "-z", revision, "--", *paths)
        found = {}
        for entry in filter(None, listing.split("\0")):
            meta, _, path = entry.partition("\t")
            found[path] = meta.split()[2]
        return found

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def authors(self, revision_range: str) -> list[tuple[str, str]]:
        """(name, email) of each commit in `revision_range`, newest first."""
        lines = self.output("log", "--format=%an%x09%ae", revision_range).splitlines()
        return [tuple(line.split("\t", 1)) for line in lines if line]  # type: ignore[misc]

    def commit(self, message: str, identity: Identity) -> str:
        self.run(
            "-c",
            f"user.name={identity.name}",
            "-c",
            f"user.email={identity.email}",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            message,
        )
        return self.output("rev-parse", "HEAD")

    def push_branch(
        self, branch: str, *, source: str = "HEAD", replacing: str | None = None
    ) -> bool:
        """Push `source` to origin's `branch`; False when the push lost a race. Without force,
        unless `replacing` names the tip to overwrite: then only while the branch points there."""
        lease = [f"--force-with-lease=refs/heads/{branch}:{replacing}"] if replacing else []
        pushed = self.run(
            "push", "--porcelain", *lease, "origin", f"{source}:refs/heads/{branch}", check=False
        )
        if pushed.returncode == 0:
            return True
        # "[rejected]" is a non-fast-forward: someone pushed first. A remote that was updating
        # the same ref at that moment answers "[remote rejected]" with a ref-lock reason. Any
        # other remote rejection is a hook or a protection rule, and retrying cannot help.
        rejected = [ln for ln in pushed.stdout.splitlines() if ln.startswith("!")]
        if rejected and all(_lost_race(ln) for ln in rejected):
            return False
        detail = (pushed.stdout + pushed.stderr).strip().splitlines()
        raise GitError(self.scrub(f"git push of {branch} failed: {detail[-1] if detail else ''}"))


_REF_LOCK_REASONS = (
    "failed to update ref",
    "cannot lock ref",
    "incorrect old value",
    "failed to lock",
)


def _lost_race(porcelain_line: str) -> bool:
    if "[rejected]" in porcelain_line:
        return True
    return "[remote rejected]" in porcelain_line and any(
        reason in porcelain_line for reason in _REF_LOCK_REASONS
    )
