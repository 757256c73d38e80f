"""results.yaml files as the results Job (or hpo tune --local) writes them, for tests."""

from __future__ import annotations

from generator.spec.results_file import ResultsFile


def results_yaml(
    name: str,
    budget: dict | None = None,
    runtimes: tuple[float | None, ...] = (600.0, 1200.0),
    from_local_run: bool = False,
) -> str:
    """A finished experiment's results.yaml with one Succeeded trial per runtime (seconds of
    train_runtime; None: a trial that never reported it), as a cluster's results Job writes it,
    with the Experiment's uid, or `from_local_run`, without one, as hpo tune --local does."""
    trials = [
        {
            "name": f"{name}-t{i}",
            "status": "Succeeded" if seconds is not None else "Failed",
            "parameters": {"learning_rate": 3.0e-5, "r": 16},
            "metrics": {"train_loss": 0.4 + i / 100}
            | ({"train_runtime": seconds} if seconds is not None else {}),
        }
        for i, seconds in enumerate(runtimes)
    ]
    document = {
        "experiment": name,
        "status": "Succeeded",
        "reason": None,
        "objective": {"metric": "train_loss", "type": "minimize", "goal": None},
        "best_trial": None,
        "trials": trials,
        "counts": {"Succeeded": len(trials)},
        "provenance": {
            "definition_sha256": "0" * 64,
            "model": {"uri": None, "revision": None, "resolved": None, "fetched_at": None},
            "dataset": {
                "uri": None,
                "revision": None,
                "split": None,
                "resolved": None,
                "fetched_at": None,
            },
            "images": {"trainer": None, "storage_init": None},
            "experiment_uid": None if from_local_run else f"uid-of-{name}",
        },
    }
    if budget is not None:
        document["budget"] = budget
    return ResultsFile.model_validate(document).to_yaml()
