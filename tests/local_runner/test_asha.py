"""`hpo tune --local` runs hpo-asha: promotions resume their configuration's checkpoint in the
local work folder, and the checkpoints go when the run ends (they stay when it is interrupted).

The stand-in trainer (see conftest) trains `reports` = 9 steps in a full run, so the rungs of
rungs 3 and reduction_factor 3 stop at steps 1, 3 and 9; a promoted trial fails unless it finds
the checkpoint of its own configuration from the rung below, and records what it did.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import json
import signal
from collections import Counter, defaultdict

from generator.cli import main
from generator.loading.definition import load_definition
from generator.rendering.warm_start import generated_settings
from suggestion.history import Objective
from suggestion.sampling import next_assignments
from suggestion.space import Parameter
from tests.local_runner.conftest import definition
from tests.local_runner.test_resume import read_until, start_hpo

STOPS = {0: 1, 1: 3, 2: 9}


def asha(name: str, **overrides) -> str:
    fields = {
        "algorithm_name": "hpo-asha",
        "algorithm_settings": {"random_state": 7, "sampler": "random"},
        "max_trial_count": 16,
        "parallel_trial_count": 1,
    }
    return definition(name, **{**fields, **overrides})


def rung_records(repo, name: str, results: dict) -> dict[str, dict]:
    """What each trial of the results did, as the stand-in recorded it."""
    folder = repo.root / ".hpo" / name / "trials"
    return {
        t["name"]: json.loads((folder / t["name"] / "rung.json").read_text())
        for t in results["trials"]
    }


class TestPromotionResumes:
    """Each promoted trial continues its configuration where the rung below stopped."""

    def test_a_run_climbs_the_rungs_by_resuming(self, repo, monkeypatch, capsys):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=9, sleep=0.0)
        repo.write("climb", asha("climb"))
        monkeypatch.chdir(repo.root)

        assert 0 == main(["tune", "--local", "experiments/climb"])

        results = repo.results("climb")
        # A promoted trial without its configuration's checkpoint would have failed.
        assert {"Succeeded": 16} == results["counts"]
        records = rung_records(repo, "climb", results)
        per_rung = Counter(r["rung"] for r in records.values())
        assert per_rung[1] <= per_rung[0] // 3 and per_rung[2] <= per_rung[1] // 3
        assert per_rung[2] >= 1  # sixteen trials one at a time reach the top rung
        steps = defaultdict(list)
        for trial in results["trials"]:
            record = records[trial["name"]]
            assert (STOPS.get(record["rung"] - 1, 0), STOPS[record["rung"]]) == (
                record["start"],
                record["stop"],
            )
            assert record["stop"] - record["start"] == trial["metrics"]["trained_steps"]
            assert {"learning_rate", "r"} == set(trial["parameters"])  # not hpo_rung, hpo_config
            steps[record["folder"]].append(record["stop"] - record["start"])
        top = [f for f, r in ((r["folder"], r["rung"]) for r in records.values()) if r == 2]
        for folder in top:  # a configuration at the top rung trained one full run, no more
            assert 9 == sum(steps[folder])
        assert all(folder.startswith(str(repo.root / ".hpo/climb/checkpoints/climb/config-"))
                   for folder in steps)  # fmt: skip
        assert not (repo.root / ".hpo/climb/checkpoints").exists()
        assert "removed the checkpoints of" in capsys.readouterr().out

    def test_parallel_trials_keep_the_rule(self, repo, monkeypatch):
        """With two trials at a time, promotions still come from finished results only."""
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=9, sleep=0.01)
        repo.write("wide", asha("wide", parallel_trial_count=2))
        monkeypatch.chdir(repo.root)

        assert 0 == main(["tune", "--local", "experiments/wide"])

        results = repo.results("wide")
        assert {"Succeeded": 16} == results["counts"]
        per_rung = Counter(r["rung"] for r in rung_records(repo, "wide", results).values())
        assert per_rung[1] <= per_rung[0] // 3 and per_rung[2] <= per_rung[1] // 3
        assert not (repo.root / ".hpo/wide/checkpoints").exists()


class TestInterrupted:
    """Ctrl-C keeps the checkpoints, so --resume can run the interrupted promotion again."""

    def test_interrupt_during_a_promotion_then_resume(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write("pause", asha("pause"))
        process = start_hpo(repo, "pause", reports=9)  # half a second per step
        read_until(process, "finished  pause-002")
        read_until(process, "started   pause-003")  # three results: the best is promoted
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)

        assert 130 == process.returncode, rest
        kept = sorted(
            p.relative_to(repo.root / ".hpo/pause/checkpoints/pause").as_posix()
            for p in (repo.root / ".hpo/pause/checkpoints/pause").glob("config-*/rung-*")
        )
        assert ["config-0/rung-0", "config-1/rung-0", "config-2/rung-0"] == kept

        monkeypatch.chdir(repo.root)
        repo.set_stand_in(reports=9, sleep=0.0)
        assert 0 == main(["tune", "--local", "experiments/pause", "--resume"])

        results = repo.results("pause")
        assert {"Succeeded": 16} == results["counts"]
        records = rung_records(repo, "pause", results)
        assert 1 <= sum(r["rung"] == 2 for r in records.values())
        assert not (repo.root / ".hpo/pause/checkpoints").exists()


class TestWarmStart:
    """Earlier full runs feed the sampler of new configurations, as top-rung results."""

    def test_an_earlier_hpo_asha_run_gives_its_top_rung_only(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=9, sleep=0.0)
        repo.write("early", asha("early", max_trial_count=13))
        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/early"])
        early = repo.results("early")["trials"]
        top = [t for t in early if t["rung"] == 2 and t["status"] == "Succeeded"]
        assert 1 <= len(top) < len(early)
        repo.write("later", asha("later", warm_start={"from": ["experiments/early"]}))

        assert 0 == main(["tune", "--local", "experiments/later"])

        assert len(top) == repo.results("later")["warm_start"]["trials"]

    def test_earlier_trials_seed_the_first_configuration(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.set_stand_in(reports=9, sleep=0.0)
        repo.write("early", definition("early", max_trial_count=4))
        monkeypatch.chdir(repo.root)
        assert 0 == main(["tune", "--local", "experiments/early"])
        settings = {"random_state": 7, "sampler": "tpe"}
        repo.write(
            "later",
            asha("later", algorithm_settings=settings, warm_start={"from": ["experiments/early"]}),
        )

        assert 0 == main(["tune", "--local", "experiments/later"])

        results = repo.results("later")
        assert {"from": ["experiments/early"], "trials": 4} == results["warm_start"]
        assert {"Succeeded": 16} == results["counts"]
        # Four earlier results are enough for the model (two parameters + 1), so the first
        # configuration is tpe's choice given them, as the cluster's service would make it.
        space = [
            Parameter("learning_rate", "double", 0.1, 0.4),
            Parameter("r", "int", 1, 4),
            Parameter("hpo_rung", "categorical", values=("0", "1", "2")),
            Parameter("hpo_config", "int", 0, 15),
        ]
        path = repo.root / "experiments/later/experiment.yaml"
        loaded = load_definition(path, "experiments/later/experiment.yaml")
        warm = generated_settings(loaded.spec, repo.root, loaded.document).settings
        expected = next_assignments(
            space,
            "hpo-asha",
            {"random_state": "7", "sampler": "tpe", **warm},
            [Objective("train_loss", "minimize")],
            [],
        )[0]
        first = next(t for t in results["trials"] if t["name"] == "later-000")
        assert {"learning_rate": float(expected["learning_rate"]), "r": int(expected["r"])} == (
            first["parameters"]
        )
