"""The local stand-in for the experiment volume, and the pod's paths rewritten onto it.

The cluster mounts one volume at /workspace. Locally the model and dataset cache is shared by all
experiments (`<workdir>/cache`, content-addressed, so sharing is safe) and everything else of an
experiment lives in `<workdir>/<name>/`. Only path prefixes are rewritten; the commands are
otherwise the ones the pods run.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.rendering.asha import checkpoints_path
from generator.rendering.manifest_params import CACHE_DIR, WORKSPACE

# /workspace (or its cache folder) at the start of an argument or value, or after `=` (as in
# `name:str=/workspace/x`).
_MOUNTED = re.compile(
    rf"(^|=){re.escape(WORKSPACE)}({re.escape(CACHE_DIR[len(WORKSPACE) :])})?(?=/|$)"
)
# Launchers resolved to the interpreter running hpo, so trials use the same environment even
# when its bin/ folder is not on PATH.
_LAUNCHERS = {
    "python": (sys.executable,),
    "python3": (sys.executable,),
    "torchrun": (sys.executable, "-m", "torch.distributed.run"),
}


@dataclass(frozen=True)
class Workspace:
    root: Path  # the repository root: relative local paths in definitions are read from here
    workdir: Path  # e.g. <root>/.hpo
    experiment: str

    @property
    def cache(self) -> Path:
        return self.workdir / "cache"

    @property
    def experiment_dir(self) -> Path:
        return self.workdir / self.experiment

    @property
    def study_file(self) -> Path:
        return self.experiment_dir / "study.db"

    @property
    def storage_url(self) -> str:
        return f"sqlite:///{self.study_file}"

    @property
    def checkpoints(self) -> Path:
        """This experiment's hpo-asha checkpoints: where the trial command's path leads."""
        return Path(self.trial_path(checkpoints_path(WORKSPACE, self.experiment)))

    def log_file(self, trial_name: str) -> Path:
        return self.experiment_dir / "logs" / f"{trial_name}.log"

    def download_log(self) -> Path:
        return self.experiment_dir / "logs" / "download.log"

    def trial_path(self, text: str) -> str:
        """A trial's view: the cache is shared, the rest of /workspace is the experiment's."""
        return _rewrite(text, self.cache, self.experiment_dir)

    def download_path(self, text: str) -> str:
        """The download Job's view: /workspace is the work folder, so its cache is shared."""
        return _rewrite(text, self.cache, self.workdir)


def _rewrite(text: str, cache: Path, elsewhere: Path) -> str:
    return _MOUNTED.sub(lambda m: f"{m[1]}{cache if m[2] else elsewhere}", text)


def local_argv(argv: tuple[str, ...], rewrite) -> list[str]:
    """The pod's argv with its launcher resolved and every /workspace path rewritten."""
    launcher = _LAUNCHERS.get(argv[0], (argv[0],))
    return [*launcher, *(rewrite(arg) for arg in argv[1:])]
