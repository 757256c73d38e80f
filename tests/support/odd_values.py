"""A definition full of values YAML readers disagree on, and what each must come back as.

Under YAML 1.1 (PyYAML's default) `1e-4` is a string and `yes`, `no` and `on` are booleans; JSON
and float64 round `9007199254740993`; `-0` may come back as a float. The definition means what
YAML 1.2 says, and every path to results.yaml must return exactly that, with its type.
"""

from __future__ import annotations

import itertools
from typing import Any

NAME = "odd-values"

# Each searched parameter: its values as written in YAML, and as the definition means them.
WRITTEN = {
    "learning_rate": ("{search: discrete, values: [1e-4, 1.0e-3, .5]}", [0.0001, 0.001, 0.5]),
    "seed": ("{search: categorical, values: [-0, 9007199254740993]}", [0, 9007199254740993]),
    "run_name": ('{search: categorical, values: [yes, no, on, "3"]}', ["yes", "no", "on", "3"]),
}


def definition(cluster: str) -> str:
    """The definition for `cluster`: local inputs for `local`, Hub repositories elsewhere."""
    searched = "".join(f"    {name}: {text}\n" for name, (text, _) in WRITTEN.items())
    local = cluster == "local"
    model = "./data/model" if local else "hf://example-org/tiny-bert"
    reviews = "./data/reviews" if local else "example-org/reviews"
    return f"""\
name: {NAME}
cluster: {cluster}
model_provider_parameters:
  model_uri: {model}
  transformer_type: AutoModelForSequenceClassification
  num_labels: 2
dataset_provider_parameters:
  repo_id: {reviews}
  split: train
trainer_parameters:
  training_parameters:
{searched}    max_steps: 2
objective_metric_name: train_loss
objective_type: minimize
algorithm_name: grid
max_trial_count: 24
parallel_trial_count: 2
"""


def typed(value: Any) -> tuple[str, Any]:
    """A value with its type, so that 0 is not 0.0 and "yes" is not True."""
    return type(value).__name__, value


def every_combination() -> set[tuple]:
    """The grid, typed: one entry per trial parameters, in the order of WRITTEN."""
    meant = [[typed(v) for v in values] for _, values in WRITTEN.values()]
    return set(itertools.product(*meant))


def combinations_in(results: dict) -> set[tuple]:
    """The typed parameters of every trial in a loaded results.yaml."""
    return {
        tuple(typed(trial["parameters"][name]) for name in WRITTEN) for trial in results["trials"]
    }
