"""The revision Argo CD deploys, and what it holds: `hpo status` tells running from proposed by it.

Argo CD syncs `rendered/<cluster>/<name>/` at the ApplicationSet's `targetRevision`, so an
experiment is deployed once its definition is there (CI keeps rendered/ in step with
experiments/). The revision is read from argocd/applicationset.yaml rather than assumed: a fork
that deploys another branch gets the right answer. In a clone, the branch Argo CD reads is the
forge's, so when a remote points at the ApplicationSet's repoURL its copy of the branch
(`origin/main`) is the default, as fresh as the last `git fetch`.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ExitCode, GitError, HpoError
from generator.loading.yamlload import YamlProblems, load_located

APPLICATIONSET_FILE = "argocd/applicationset.yaml"
SOURCE_KEYS = ("spec", "template", "spec", "source")


class RefNotFound(GitError):
    """The revision to compare with is not a commit of the repository."""

    exit_code = ExitCode.NOT_FOUND


class SyncedRevisionError(HpoError):
    """argocd/applicationset.yaml does not say which revision Argo CD deploys."""

    exit_code = ExitCode.PROBLEMS


@dataclass(frozen=True)
class SyncedSource:
    """The ApplicationSet's source: the repository and the revision Argo CD deploys from it."""

    repo_url: str
    revision: str


@dataclass(frozen=True)
class Ref:
    """A revision as given (or chosen), and the commit it names."""

    name: str
    commit: str

    def __str__(self) -> str:
        return f"{self.name} ({self.commit[:7]})"


def synced_source(root: Path) -> SyncedSource:
    """spec.template.spec.source of argocd/applicationset.yaml."""
    advice = "name the revision to compare with in --ref"
    try:
        doc = load_located(
            (root / APPLICATIONSET_FILE).read_text(encoding="utf-8"), APPLICATIONSET_FILE
        )
    except (OSError, UnicodeDecodeError) as e:
        message = f"{APPLICATIONSET_FILE}: cannot read: {getattr(e, 'strerror', e)}; {advice}"
        raise SyncedRevisionError(message) from e
    except YamlProblems as e:
        raise SyncedRevisionError(f"{e.problems[0]}; {advice}") from None
    node = doc.data
    for key in SOURCE_KEYS:
        node = node.get(key) if isinstance(node, dict) else None
    node = node if isinstance(node, dict) else {}
    revision, url = node.get("targetRevision"), node.get("repoURL")
    if not isinstance(revision, str) or not revision:
        where = ".".join(SOURCE_KEYS) + ".targetRevision"
        raise SyncedRevisionError(f"{APPLICATIONSET_FILE}: no {where}; {advice}")
    return SyncedSource(url if isinstance(url, str) else "", revision)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except FileNotFoundError as e:
        raise GitError("git is not installed: hpo status reads the repository with it") from e


def _canonical(url: str) -> str:
    """host/path of a git URL, whichever way it is written: https://host/path.git,
    ssh://git@host:22/path, or scp-like git@host:path."""
    url = url.strip().rstrip("/").removesuffix(".git")
    if "://" in url:
        url = url.split("://", 1)[1]
    elif ":" in url.split("/", 1)[0]:  # scp-like: [user@]host:path
        url = url.replace(":", "/", 1)
    host, _, path = url.partition("/")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]  # no user, no port
    return f"{host}/{path}".lower()


def _same_repository(a: str, b: str) -> bool:
    return bool(a) and _canonical(a) == _canonical(b)


def default_ref(root: Path, source: SyncedSource) -> str:
    """`<remote>/<revision>` when a remote's URL is the ApplicationSet's repoURL and has that
    branch; the revision as written otherwise."""
    remotes = _git(root, "remote", "-v")
    for line in sorted(remotes.stdout.splitlines()) if remotes.returncode == 0 else []:
        name, url, *_ = line.split() + ["", ""]
        candidate = f"{name}/{source.revision}"
        if _same_repository(url, source.repo_url) and _commit(root, candidate) is not None:
            return candidate
    return source.revision


def _commit(root: Path, name: str) -> str | None:
    verify = _git(root, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
    if verify.returncode == 0:
        return verify.stdout.strip()
    if verify.returncode == 1:  # --quiet: the name is not a commit here
        return None
    lines = verify.stderr.strip().splitlines() or [f"git rev-parse exited {verify.returncode}"]
    raise GitError(f"{root}: {lines[-1]}")


def resolve(root: Path, name: str, flag: str = "--ref") -> Ref:
    commit = _commit(root, name)
    if commit is None:
        raise RefNotFound(
            f"{flag} {name}: no such commit in {root} (git fetch, or name another with {flag})"
        )
    return Ref(name, commit)


def files_at(root: Path, ref: Ref, folder: str = "experiments") -> dict[str, set[str]]:
    """The files of each experiment folder `<folder>/<name>/` at the ref, by name."""
    # Paths relative to `root`, which may lie below the top of the git repository.
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", ref.commit, "--", folder)
    if listing.returncode != 0:
        raise GitError(f"git ls-tree {ref.name}: {listing.stderr.strip()}")
    files: dict[str, set[str]] = {}
    for path in filter(None, listing.stdout.split("\0")):
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == folder:
            files.setdefault(parts[1], set()).add(parts[2])
    return files


def deployed_ref(root: Path) -> str | None:
    """The revision Argo CD deploys, when this checkout has it; None in a folder without git
    history or without that branch (nothing deployed to compare with)."""
    try:
        ref = default_ref(root, synced_source(root))
        return ref if _commit(root, ref) is not None else None
    except HpoError:
        return None
