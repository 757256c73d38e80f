"""One local run of one experiment: refuse early, download once, run the trials, write results."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from generator.loading.definition import DefinitionRecord
from local_runner import devices
from local_runner.download import prepared, run_downloads
from local_runner.environment import container_env
from local_runner.plan import LocalPlan, build_plan
from local_runner.progress import make_progress
from local_runner.results_out import experiment_result, write
from local_runner.scheduler import Scheduler
from local_runner.study import fingerprint, open_study
from local_runner.suggest import check_search
from local_runner.trials import check_references
from local_runner.workspace import Workspace
from results.budget import BudgetRule
from results.checkpoints import remove_checkpoints


def download_job(objects: list[dict]) -> dict:
    jobs = [o for o in objects if o["kind"] == "Job"]
    return next((j for j in jobs if j["metadata"]["name"].endswith("-storage-init")), jobs[0])


@dataclass
class Session:
    plan: LocalPlan
    workspace: Workspace
    definition: DefinitionRecord
    folder: Path  # the experiment's folder, where the results files go
    fingerprint: str
    slots: list[devices.Slot]

    @classmethod
    def prepare(cls, rendered, folder: Path, root: Path, workdir: Path) -> Session:
        """Everything that can be refused, refused now: nothing has started yet."""
        experiment = rendered.object_of_kind("Experiment")
        job = download_job(rendered.objects)
        plan = build_plan(experiment, job)
        check_search(plan)
        check_references(plan)
        workspace = Workspace(root, workdir, plan.name)
        for command in plan.downloads:
            prepared(command, workspace)  # a missing secret fails here, not after a download
        container_env(plan.trial.env, os.environ, workspace.trial_path, plan.trial.name)
        slots = devices.plan_slots(
            plan.parallel_trial_count,
            plan.gpus_per_trial,
            plan.cpus_per_trial,
            devices.visible_gpus(os.environ),
            devices.cpu_count(),
        )
        return cls(
            plan, workspace, rendered.definition, folder, fingerprint(experiment, job), slots
        )

    def run(self, resume: bool) -> str | None:
        """Run to the end; the experiment's status, or None when interrupted."""
        plan, workspace = self.plan, self.workspace
        say = _say
        opened = open_study(workspace, self.fingerprint, plan.objective_type, resume)
        study = opened.study
        if opened.archived:
            say(f"the previous run was moved to {opened.archived}")
        done = len(study.trials)
        say(self._summary(opened.resumed, done))
        run_downloads(plan.downloads, workspace, say)
        progress = make_progress(plan.objective_metric, plan.name)
        scheduler = Scheduler(
            plan, workspace, study, self.slots, progress, BudgetRule.of(self.definition.spec)
        )
        try:
            outcome = scheduler.run()
        finally:
            progress.close()
        if outcome.status is None:
            # hpo-asha's checkpoints stay: --resume runs the interrupted trials again, and a
            # promoted one resumes its configuration from the checkpoint of the rung below.
            say(
                f"interrupted: finished trials are saved in {workspace.study_file}; continue with "
                f"hpo tune --local {self._shown_definition()} --resume"
            )
            return None
        say(f"experiment {outcome.status}: {outcome.reason}")
        self._remove_checkpoints()
        result = experiment_result(
            plan,
            outcome.status,
            outcome.reason,
            outcome.finished,
            self.definition,
            budget_ended=scheduler.budget_ended,
            cache_dir=workspace.cache,
        )
        paths = write(self.folder, result, self.definition)
        self._print_best(result)
        say("wrote " + ", ".join(self._shown(p) for p in paths))
        return outcome.status

    def _remove_checkpoints(self) -> None:
        """The run has ended: no trial resumes a checkpoint any more (hpo-asha)."""
        folder = self.workspace.checkpoints
        if not folder.is_dir():
            return
        try:
            removed = remove_checkpoints(folder)
            folder.rmdir()
            if not any(folder.parent.iterdir()):  # the work folder's checkpoints/, now empty
                folder.parent.rmdir()
        except OSError as e:
            _say(f"warning: could not remove the checkpoints in {self._shown(folder)}: {e}")
            return
        _say(f"removed the checkpoints of {removed} configuration(s) from {self._shown(folder)}")

    def _summary(self, resumed: bool, done: int) -> str:
        plan = self.plan
        limit = plan.max_trial_count if plan.max_trial_count is not None else "unlimited"
        gpus = ",".join(g for s in self.slots for g in s.gpus) or "none (CPU)"
        head = f"resuming {plan.name} ({done} trials saved)" if resumed else f"tuning {plan.name}"
        return (
            f"{head}: {plan.algorithm}, {limit} trials, {len(self.slots)} at a time "
            f"(parallel_trial_count {plan.parallel_trial_count}), "
            f"{self.slots[0].threads} thread(s) per trial, GPUs: {gpus}; "
            f"state in {self._shown(self.workspace.experiment_dir)}"
        )

    def _print_best(self, result) -> None:
        best = result.best_trial
        if best is None:
            _say(f"no trial reported {self.plan.objective_metric}")
            return
        value = best.metrics[self.plan.objective_metric]
        _say(f"best trial {best.name}: {self.plan.objective_metric}={value:.6g}")
        for name, parameter in best.parameters.items():
            _say(f"  {name}: {parameter}")

    def _shown(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.workspace.root.resolve()))
        except ValueError:
            return str(path)

    def _shown_definition(self) -> str:
        return self._shown(self.folder)


def _say(text: str) -> None:
    print(text, file=sys.stdout, flush=True)
