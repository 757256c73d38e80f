"""hpo tune --local enforces a budget with the results Job's accounting and rule."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

from generator.cli import main
from tests.local_runner.conftest import definition


class TestLocalBudget:
    """Spent trial time ends the run as it would on a cluster: the trials created, plus one."""

    def test_budget_ends_the_run_and_is_recorded(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=4, sleep=0.3)  # each trial runs for more than a second
        # 0.72 trial-seconds: two trials running 0.24 s each, plus one more of that cost, reach
        # it long before either finishes; then one more trial may start, as Katib allows.
        text = definition("budgeted", max_trial_count=10, budget={"trial_hours": 0.0002})
        repo.write("budgeted", text)
        monkeypatch.chdir(repo.root)

        assert 0 == main(["tune", "--local", "experiments/budgeted"])

        out = capsys.readouterr().out
        assert "budget spent (" in out and "(max_trial_count 3)" in out
        assert "budget    " in out  # spent / budget after each finished trial
        results = repo.results("budgeted")
        assert {"Succeeded": 3} == results["counts"]
        budget = results["budget"]
        assert ("trial_hours", 0.0002, True) == (
            budget["unit"],
            budget["limit"],
            budget["ended_experiment"],
        )
        assert 3 * 1.2 / 3600 < budget["spent"] < 3 * 10 / 3600  # three trials' wall time

    def test_no_budget_no_budget_key(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("plain", definition("plain"))
        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/plain"])
        assert "budget" not in repo.results("plain")
