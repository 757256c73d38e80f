"""A run's state survives a kill or Ctrl-C; `--resume` continues it without losing a trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import optuna
import pytest
import yaml

from generator.cli import main
from tests.local_runner.conftest import HPO_PROCESS, definition


def start_hpo(repo, name: str, reports: int = 4) -> subprocess.Popen:
    repo.set_stand_in(reports=reports, sleep=0.5)
    return subprocess.Popen(
        [sys.executable, *HPO_PROCESS] + ["tune", "--local", f"experiments/{name}"],
        cwd=repo.root,
        env=os.environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(process: subprocess.Popen, wanted: str) -> list[str]:
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith(wanted):
            return lines
    raise AssertionError(f"hpo ended before printing {wanted!r}:\n{''.join(lines)}")


def study_trials(repo, name: str) -> list:
    storage = f"sqlite:///{repo.root / '.hpo' / name / 'study.db'}"
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


class TestResumeAfterKill:
    """A killed run keeps its finished trials; the one it was running is queued again."""

    def test_kill_then_resume(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        repo.write("resume", definition("resume", parallel_trial_count=1, max_trial_count=3))
        process = start_hpo(repo, "resume")
        read_until(process, "finished  resume-000")
        read_until(process, "started   resume-001")
        process.kill()  # SIGKILL: nothing is cleaned up, as after a crash or a lost terminal
        process.wait()
        kept = {t.number: t.user_attrs for t in study_trials(repo, "resume")}
        assert "Succeeded" == kept[0]["status"]
        assert "status" not in kept[1]  # still marked running in the storage

        monkeypatch.chdir(repo.root)
        repo.set_stand_in(sleep=0.01)
        assert 0 == main(["tune", "--local", "experiments/resume", "--resume"])

        assert "resume-001 was interrupted by a previous run; queued again" in (
            capsys.readouterr().out
        )
        results = repo.results("resume")
        assert {"Succeeded": 3} == results["counts"]
        names = {t["name"] for t in results["trials"]}
        assert "resume-000" in names and "resume-001" not in names
        trials = {t.user_attrs["name"]: t.user_attrs for t in study_trials(repo, "resume")}
        assert kept[0]["assignments"] == trials["resume-000"]["assignments"]
        rerun = next(a for a in trials.values() if a.get("rerun_of") == "resume-001")
        assert kept[1]["assignments"] == rerun["assignments"]
        assert "Succeeded" == rerun["status"]


class TestCtrlC:
    """Ctrl-C stops the running trials, keeps what finished, and says how to resume."""

    def test_interrupt_then_resume(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("ctrlc", definition("ctrlc", parallel_trial_count=2, max_trial_count=3))
        process = start_hpo(repo, "ctrlc")
        read_until(process, "started   ctrlc-001")
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)

        assert 130 == process.returncode
        assert "hpo tune --local experiments/ctrlc --resume" in rest
        assert not (repo.root / "experiments/ctrlc/results.yaml").exists()
        stopped = [t.user_attrs for t in study_trials(repo, "ctrlc") if t.user_attrs.get("name")]
        assert {"Killed"} == {a["status"] for a in stopped}
        assert all(a["interrupted"] for a in stopped)

        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/ctrlc", "--resume"])

        results = repo.results("ctrlc")
        assert {"Succeeded": 3} == results["counts"]
        rerun = sorted(t["parameters"]["learning_rate"] for t in results["trials"])
        for attrs in stopped:  # each interrupted trial ran again with its parameters
            assert float(attrs["assignments"]["learning_rate"]) in rerun


class TestResumeRules:
    """--resume accepts the counts Katib lets you change and refuses any other change."""

    def test_more_trials_continue_the_run(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        path = repo.write("grow", definition("grow", max_trial_count=2))
        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/grow"])
        first = {t["name"] for t in repo.results("grow")["trials"]}

        path.write_text(definition("grow", max_trial_count=3))
        assert 0 == main(["tune", "--local", "experiments/grow", "--resume"])

        results = repo.results("grow")
        assert 3 == len(results["trials"])
        assert first < {t["name"] for t in results["trials"]}

    def test_changed_search_space_is_refused(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        path = repo.write("change", definition("change", max_trial_count=2))
        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/change"])
        document = yaml.safe_load(path.read_text())
        document["trainer_parameters"]["training_parameters"]["learning_rate"]["max"] = 0.3
        path.write_text(yaml.safe_dump(document))

        assert 1 == main(["tune", "--local", "experiments/change", "--resume"])

        assert "changed since the saved run started" in capsys.readouterr().err


def processes_in(folder) -> list[int]:
    """Live processes whose working folder is `folder` (trials run from the repository root)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd") == str(folder):
                    found.append(int(entry))
            except OSError:
                continue
    return found


class TestStopSignals:
    """SIGTERM and SIGHUP stop the trials the way Ctrl-C does; none is left running."""

    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
    def test_no_trial_outlives_hpo(self, repo, signum):
        repo.use_stand_in_trainer()
        repo.write("stop", definition("stop", parallel_trial_count=2, max_trial_count=2))
        repo.set_stand_in(reports=1, sleep=60)
        process = subprocess.Popen(
            [sys.executable, *HPO_PROCESS] + ["tune", "--local", "experiments/stop"],
            cwd=repo.root,
            env=os.environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        read_until(process, "started   stop-001")
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=60)

        assert 130 == process.returncode, rest
        assert [] == processes_in(repo.root)
        stopped = [t.user_attrs for t in study_trials(repo, "stop") if t.user_attrs.get("name")]
        assert {"Killed"} == {a["status"] for a in stopped}
