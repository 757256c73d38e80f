"""Each configuration as the trial the generator renders for Katib, started as `hpo tune
--local` starts one: the demo's definition on a task's inputs, searching the grid, rendered in
a scratch repository; its trial command with the configuration's values substituted; run with
the local runner's environment for one slot of CPU threads.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.curves.table import Row, table_rows
from benchmarks.curves.tasks import EVALUATIONS, LORA_RANKS, MODEL, Task, grid, learning_rates
from benchmarks.curves.timeline import Timeline, curve
from benchmarks.local_search import demo, scratch_repository
from generator.errors import HpoError
from local_runner.devices import Slot
from local_runner.plan import LocalPlan, build_plan
from local_runner.process import ChildProcess
from local_runner.session import download_job
from local_runner.trials import trial_command, trial_env, trial_name
from local_runner.workspace import Workspace


class CurvesError(HpoError):
    """A task's definition does not render, or a run failed before it trained."""


def definition(task: Task, workdir: Path) -> dict:
    """The demo's definition on this task's inputs, searching the grid, T steps long."""
    values = demo(len(grid()))
    values["name"] = f"curves-{task.name}"
    values["model_provider_parameters"]["model_uri"] = str(workdir / MODEL)
    values["dataset_provider_parameters"]["repo_id"] = str(workdir / task.dataset)
    training = values["trainer_parameters"]["training_parameters"]
    del training["num_train_epochs"]  # max_steps sets the length
    training.update(
        learning_rate={"search": "categorical", "values": [float(x) for x in learning_rates()]},
        max_steps=task.total_steps,
        eval_strategy="steps",
        eval_steps=task.total_steps // EVALUATIONS,
        # A line after every step: its arrival time splits training seconds from evaluation.
        logging_steps=1,
        # bfloat16, as the trainer trains on GPUs: CPUs with AMX compute it in hardware, three
        # times as fast as float32, which would not fit the recording in an hour.
        bf16=True,
        use_cpu=True,
    )
    values["trainer_parameters"]["lora_config"]["r"] = {
        "search": "categorical",
        "values": list(LORA_RANKS),
    }
    values["algorithm_name"], values["algorithm_settings"] = "grid", {}
    return values


def render(values: dict, root: Path) -> LocalPlan:
    """The local plan of one definition, rendered by the generator in repository `root`."""
    from generator.project import check_definition_file
    from generator.repo_config import load_repo_config

    path = root / "experiments" / values["name"] / "experiment.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    report = check_definition_file(path, root, load_repo_config(root))
    errors = [str(problem) for problem in report.problems if problem.is_error]
    if errors or report.rendered is None:
        raise CurvesError(f"{values['name']} does not render: " + "; ".join(errors))
    rendered = report.rendered
    return build_plan(rendered.object_of_kind("Experiment"), download_job(rendered.objects))


def plans(tasks: list[Task], workdir: Path) -> list[LocalPlan]:
    """Each task's plan, in the order given."""
    scratch = scratch_repository()
    try:
        return [render(definition(task, workdir), scratch) for task in tasks]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def assignments(plan: LocalPlan, config: int) -> dict[str, str]:
    """The configuration's values as Katib strings, as the rendered parameters spell them."""
    rate, r = grid()[config]
    spelled = {float(value): value for value in plan.parameters[0].values}
    return {"learning_rate": spelled[float(rate)], "r": str(r)}


@dataclass
class Run:
    task: Task
    config: int
    timeline: Timeline
    process: ChildProcess


def start(task: Task, plan: LocalPlan, workspace: Workspace, config: int, threads: int) -> Run:
    name = trial_name(plan.name, config)
    argv = trial_command(plan, workspace, name, assignments(plan, config))
    env = trial_env(plan, workspace, Slot(0, (), threads))
    timeline = Timeline()
    process = ChildProcess(argv, env, workspace.root, workspace.log_file(name), timeline.feed)
    return Run(task, config, timeline, process)


def finish(run: Run) -> tuple[list[Row], str]:
    """The ended run's rows, and a line that says what it reached and cost."""
    code = run.process.poll()
    if code != 0 and not run.timeline.logged:
        tail = " | ".join(run.process.tail(1))
        raise CurvesError(f"{run.task.name} config {run.config} failed before training: {tail}")
    found = curve(run.timeline)
    rows = table_rows(run.task, run.config, found)
    rate, r = grid()[run.config]
    failed = "" if code == 0 else f" FAILED (exit {code}; log {run.process.log_file})"
    line = (
        f"{run.task.name} config {run.config} (learning_rate {rate}, r {r}): objective "
        f"{rows[-1]['objective']} in {run.process.seconds:.0f}s (startup "
        f"{found.startup_seconds:.1f}s, {found.seconds_per_step:.3f}s/step, eval "
        f"{found.eval_seconds:.2f}s){failed}"
    )
    return rows, line
