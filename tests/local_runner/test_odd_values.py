"""Values YAML readers disagree on go check -> render -> hpo tune --local -> results.yaml intact."""

from __future__ import annotations

import optuna

from generator.cli import main
from generator.loading.yamlload import load_located
from tests.support import odd_values


class TestOddValuesLocally:
    """Each searched value a trial ran with comes back in results.yaml as the definition meant it:
    1e-4 a float, -0 the integer 0, 2**53 + 1 exactly, yes/no/on and "3" strings."""

    def test_every_grid_point_reaches_the_trial_and_comes_back_typed(self, repo, monkeypatch):
        repo.use_stand_in_trainer()
        repo.write(odd_values.NAME, odd_values.definition(cluster="local"))
        monkeypatch.chdir(repo.root)

        # learning_rate 0.5 makes the stand-in diverge: those trials fail, and still count.
        assert 0 == main(["tune", "--local", f"experiments/{odd_values.NAME}"])

        path = repo.root / "experiments" / odd_values.NAME / "results.yaml"
        results = load_located(path.read_text(encoding="utf-8"), str(path)).data
        assert odd_values.every_combination() == odd_values.combinations_in(results)
        assert {"Succeeded": 16, "Failed": 8} == results["counts"]
        # The trial command got Katib's spelling of each value, as a pod would.
        storage = f"sqlite:///{repo.root / '.hpo' / odd_values.NAME / 'study.db'}"
        sent = {
            tuple(trial.user_attrs["assignments"][name] for name in odd_values.WRITTEN)
            for trial in optuna.load_study(study_name=None, storage=storage).trials
        }
        assert {("0.0001", "9007199254740993", "yes"), ("0.5", "0", "3")} <= sent
