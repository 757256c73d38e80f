"""The download Job, locally: its containers in order, into the shared content-addressed cache.

storage_init returns at once when the cache already holds a complete copy (and, for local paths,
when their content has not changed), so running this before every experiment costs seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from local_runner.environment import container_env
from local_runner.errors import DownloadFailedError
from local_runner.plan import Command
from local_runner.process import ChildProcess
from local_runner.workspace import Workspace, local_argv


def prepared(command: Command, workspace: Workspace) -> tuple[list[str], dict[str, str]]:
    """argv and environment of one download container, secrets resolved (fails before running)."""
    argv = local_argv(command.argv, workspace.download_path)
    env = container_env(command.env, os.environ, workspace.download_path, command.name)
    return argv, env


def run_downloads(
    commands: tuple[Command, ...], workspace: Workspace, say: Callable[[str], None]
) -> None:
    """Run each download container to completion; the first failure stops the run."""
    ready = [(command, *prepared(command, workspace)) for command in commands]
    workspace.cache.mkdir(parents=True, exist_ok=True)
    for command, argv, env in ready:
        log = workspace.experiment_dir / "logs" / f"{command.name}.log"
        child = ChildProcess(argv, env, workspace.root, log)
        try:
            code = child.wait()
        except BaseException:
            child.stop()
            raise
        if code != 0:
            reason = next(
                (line for line in reversed(child.tail(20)) if line.startswith("error:")),
                f"exit code {code}",
            )
            raise DownloadFailedError(f"download step {command.name} failed: {reason} (log: {log})")
        folder = child.tail(1)
        say(f"{command.name}: {folder[0] if folder else 'done'} ({child.seconds:.1f}s)")
