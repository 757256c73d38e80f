"""`hpo results <name>`: the results Job's entrypoint.

Every flag falls back to an environment variable (the Job sets them); the forge's are read by
`proposal.settings`, the client's reader too, and the forge token only from HPO_FORGE_TOKEN so
it never appears in a command line. The validated definition comes from the rendered ConfigMap
(HPO_DEFINITION), never from experiment.yaml.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ExitCode, HpoError, run_entry_point
from generator.loading.definition import DefinitionRecord
from proposal.errors import ForgeSettingsError
from proposal.settings import ENVIRONMENT, ForgeSettings
from results.errors import BranchTakenOver, DefinitionReadError, ResultsConfigError

DEFAULT_TIMEOUT = "7d"
DEFAULT_AUTHOR_NAME = "hpo-results"
DEFAULT_AUTHOR_EMAIL = "hpo-results@noreply.invalid"
DEFAULT_LABELS = "hpo-results"
# The forge settings as this command's flags name them (the token has no flag).
FORGE_FLAGS = {"forge": "--forge", "repo": "--repo", "token": None}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

log = logging.getLogger("results")


def parse_duration(text: str) -> float:
    """Seconds in `text`: a number with an optional unit, e.g. 90, 45m, 48h, 7d."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ResultsConfigError(f"--timeout: {text!r} is not a duration such as 3600, 90m or 7d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "results",
        help="wait for a Katib Experiment, then write its results to a pull request",
        description="Wait until the Experiment <name> has Succeeded or Failed, write "
        "experiments/<name>/results.yaml, report.md and chart.png on the branch "
        "hpo-results/<name>, and open or update its pull request. The forge token is read "
        "from HPO_FORGE_TOKEN.",
    )
    parser.add_argument("name", help="the experiment (and Katib Experiment) name")
    add = parser.add_argument
    add("--namespace", help="the Experiment's namespace (HPO_NAMESPACE; default: kubeconfig's)")
    add("--kubeconfig", help="kubeconfig file (KUBECONFIG; default: in-cluster, ~/.kube/config)")
    add(
        "--timeout",
        help=f"give up waiting after this long (HPO_RESULTS_TIMEOUT; {DEFAULT_TIMEOUT})",
    )
    add("--git-url", help="repository to push to, HTTPS or SSH (HPO_GIT_URL)")
    add("--base-branch", help="branch the results PR targets (HPO_BASE_BRANCH; main)")
    add("--forge", choices=("github", "gitlab"), help="(HPO_FORGE)")
    add("--forge-api-url", help="REST API root (HPO_FORGE_API_URL; default: the public forge)")
    add("--repo", help="owner/name on GitHub or the project path on GitLab (HPO_REPO)")
    add("--ssh-key", help="private key file for an SSH git URL (HPO_GIT_SSH_KEY)")
    add("--ssh-known-hosts", help="known_hosts file for SSH (HPO_GIT_SSH_KNOWN_HOSTS)")
    add("--author-name", help=f"commit author (HPO_GIT_AUTHOR_NAME; {DEFAULT_AUTHOR_NAME})")
    add("--author-email", help=f"commit email (HPO_GIT_AUTHOR_EMAIL; {DEFAULT_AUTHOR_EMAIL})")
    add("--labels", help=f"comma-separated PR labels (HPO_LABELS; {DEFAULT_LABELS})")
    add(
        "--definition",
        help="the definition record rendered for this Job (HPO_DEFINITION): JSON with the "
        "validated definition and its sha256",
    )
    add("--storage-init-image", help="recorded in provenance (HPO_STORAGE_INIT_IMAGE)")
    add(
        "--cache-dir",
        help="the download's cache, mounted read-only (HPO_CACHE_DIR): what the inputs resolved "
        "to is read from its completion markers into provenance",
    )
    add(
        "--checkpoint-dir",
        help="the experiment's hpo-asha checkpoints (HPO_CHECKPOINT_DIR): emptied once the "
        "Experiment has finished",
    )
    add("--watch-seconds", type=int, default=300, help=argparse.SUPPRESS)
    parser.set_defaults(func=run)
    return parser


@dataclass(frozen=True)
class Settings:
    name: str
    namespace: str | None
    kubeconfig: str | None
    timeout_s: float
    git_url: str
    forge: ForgeSettings
    definition: str
    ssh_key: str | None
    ssh_known_hosts: str | None
    author_name: str
    author_email: str
    labels: tuple[str, ...]
    storage_init_image: str | None
    watch_seconds: int
    cache_dir: str | None = None
    checkpoint_dir: str | None = None


def _setting(args: argparse.Namespace, attr: str, env: str, default: str | None = None):
    value = getattr(args, attr, None)
    return value if value not in (None, "") else (os.environ.get(env) or default)


def settings_from(args: argparse.Namespace) -> Settings:
    missing = []

    def required(attr: str, env: str) -> str:
        value = _setting(args, attr, env)
        if not value:
            missing.append(f"--{attr.replace('_', '-')} ({env})")
        return value or ""

    git_url = required("git_url", "HPO_GIT_URL")
    definition = required("definition", "HPO_DEFINITION")
    forge = None
    try:
        forge = ForgeSettings.from_environment(
            forge=args.forge,
            api_url=args.forge_api_url,
            repo=args.repo,
            base_branch=args.base_branch,
        )
    except ForgeSettingsError as e:
        if not e.missing:
            raise ResultsConfigError(f"results: {e}") from None
        missing += [_flag(name) for name in e.missing]
    if missing or forge is None:
        raise ResultsConfigError(f"results: missing {', '.join(missing)}")
    labels = _setting(args, "labels", "HPO_LABELS", DEFAULT_LABELS)
    return Settings(
        name=args.name,
        namespace=_setting(args, "namespace", "HPO_NAMESPACE"),
        kubeconfig=_setting(args, "kubeconfig", "KUBECONFIG"),
        timeout_s=parse_duration(_setting(args, "timeout", "HPO_RESULTS_TIMEOUT", DEFAULT_TIMEOUT)),
        git_url=git_url,
        forge=forge,
        definition=definition,
        ssh_key=_setting(args, "ssh_key", "HPO_GIT_SSH_KEY"),
        ssh_known_hosts=_setting(args, "ssh_known_hosts", "HPO_GIT_SSH_KNOWN_HOSTS"),
        author_name=_setting(args, "author_name", "HPO_GIT_AUTHOR_NAME", DEFAULT_AUTHOR_NAME),
        author_email=_setting(args, "author_email", "HPO_GIT_AUTHOR_EMAIL", DEFAULT_AUTHOR_EMAIL),
        labels=tuple(label.strip() for label in labels.split(",") if label.strip()),
        storage_init_image=_setting(args, "storage_init_image", "HPO_STORAGE_INIT_IMAGE"),
        watch_seconds=args.watch_seconds,
        cache_dir=_setting(args, "cache_dir", "HPO_CACHE_DIR"),
        checkpoint_dir=_setting(args, "checkpoint_dir", "HPO_CHECKPOINT_DIR"),
    )


def _flag(name: str) -> str:
    """A missing forge setting as this command names it: its flag and variable."""
    flag = FORGE_FLAGS.get(name)
    return f"{flag} ({ENVIRONMENT[name]})" if flag else ENVIRONMENT[name]


def read_definition(path: str) -> DefinitionRecord:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise DefinitionReadError(f"{path}: cannot read the definition record: {e}") from e
    try:
        return DefinitionRecord.from_json(text, path)
    except HpoError as e:
        raise DefinitionReadError(str(e)) from e


def _write_back(
    settings: Settings,
    definition: DefinitionRecord,
    experiment: dict,
    trials: list[dict],
    workdir: Path,
) -> str:
    from katib.objects import algorithm_settings
    from proposal.git import Git, Identity, auth_environment
    from results.budget import BudgetRule, cluster_outcome
    from results.definition import (
        asha_plan,
        objectives,
        provenance,
        search_space,
        warm_start_record,
    )
    from results.katib_objects import result_from_katib
    from results.publish import publish

    env = auth_environment(
        settings.git_url,
        token=settings.forge.token,
        forge=settings.forge.forge,
        ssh_key=settings.ssh_key,
        known_hosts=settings.ssh_known_hosts,
    )
    git = Git.clone(
        settings.git_url,
        workdir / "repo",
        branch=settings.forge.base_branch,
        env=env,
        secrets=[settings.forge.token],
    )
    spec = definition.spec
    rule = BudgetRule.of(spec)
    result = result_from_katib(
        experiment,
        trials,
        space=search_space(spec),
        provenance=provenance(
            spec, storage_init_image=settings.storage_init_image, cache_dir=settings.cache_dir
        ),
        budget=None
        if rule is None
        else cluster_outcome(rule, experiment, trials, spec.max_trial_count),
        objectives=objectives(spec),
        warm_start=warm_start_record(spec, algorithm_settings(experiment)),
        asha=asha_plan(spec),
    )
    outcome = publish(
        git,
        settings.forge.client(),
        result=result,
        definition_sha256=definition.sha256,
        base=settings.forge.base_branch,
        identity=Identity(settings.author_name, settings.author_email),
        labels=settings.labels,
    )
    summary = f"{outcome.branch}: {outcome.branch_update.action}"
    if outcome.pr is not None:
        summary += f"; pull request {outcome.pr_action}: {outcome.pr.url or outcome.pr.number}"
    return summary


def wait_for_experiment(watcher, name: str, timeout_s: float, rule) -> dict:
    """The finished Experiment; with a budget, its trial counts lowered once it is spent."""
    if rule is None:
        return watcher.wait_until_finished(name, timeout_s)
    from katib.objects import experiment_outcome
    from results.budget import ClusterBudget

    guard = ClusterBudget(watcher, name, rule)

    def finished_or_guarded(experiment: dict) -> bool:
        if experiment_outcome(experiment) is not None:
            return True
        state = guard.check(experiment)
        if guard.patched is not None:
            log.info("budget spent (%s): lowered %s to %s", state.describe(), name, guard.patched)
            guard.patched = None
        return False

    return watcher.wait(name, finished_or_guarded, timeout_s)


def clear_checkpoints(folder: str | None) -> None:
    """Empty the finished experiment's checkpoints folder. The results matter more than the
    space: a failure is a warning, and the results are written all the same."""
    if folder is None:
        return
    from results.checkpoints import remove_checkpoints

    try:
        removed = remove_checkpoints(Path(folder))
    except OSError as e:
        log.warning("warning: could not remove the checkpoints in %s: %s", folder, e)
        return
    log.info("removed %d checkpoint folder(s) from %s", removed, folder)


def _taken_over(error: HpoError) -> int | None:
    """A person owns the branch now: that is an outcome, not a failure of the Job."""
    if isinstance(error, BranchTakenOver):
        print(f"warning: {error}", file=sys.stderr)
        return int(ExitCode.OK)
    return None


def run(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    def wait_and_write_back() -> None:
        settings = settings_from(args)
        definition = read_definition(settings.definition)  # before hours of waiting
        from katib.watch import KatibWatcher, kube_api
        from results.budget import BudgetRule

        api = kube_api(settings.kubeconfig, timeout_s=settings.watch_seconds + 30)
        namespace = settings.namespace or api.config.namespace
        rule = BudgetRule.of(definition.spec)
        # A budget is checked at least once a minute, when each watch ends; watches end sooner.
        seconds = settings.watch_seconds if rule is None else min(settings.watch_seconds, 60)
        watcher = KatibWatcher(api, namespace, watch_timeout_s=seconds)
        experiment = wait_for_experiment(watcher, settings.name, settings.timeout_s, rule)
        # Before the results reach Git: results.yaml on a branch means the Experiment may be
        # deleted by archiving it (generator/commands/archive.py relies on it).
        watcher.release_experiment(settings.name)
        # Finished: no trial will resume a checkpoint again (the Job is rendered with a
        # checkpoint folder only when the Experiment cannot be resumed).
        clear_checkpoints(settings.checkpoint_dir)
        trials = watcher.trials(settings.name)
        with tempfile.TemporaryDirectory(prefix="hpo-results-") as workdir:
            print(_write_back(settings, definition, experiment, trials, Path(workdir)))

    return run_entry_point(wait_and_write_back, on_error=_taken_over)


def main(argv: list[str] | None = None) -> int:
    """Standalone entry (`python -m results`), the same command as `hpo results`."""
    parser = argparse.ArgumentParser(prog="hpo")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)
