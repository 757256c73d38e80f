"""Every transformer type resumes: rung 0 stops after one of two steps, rung 1 resumes its
checkpoint, and ends where one uninterrupted two-step run ends (same tiny models and data as
test_trials.py; the tolerance is test_resume.py's: none on the CPU)."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from tests.trainer.conftest import review_rows, run_in_process, save_dataset
from tests.trainer.test_trials import image_dataset, ner_dataset, squad_dataset, trial_args


def reviews(folder):
    return save_dataset(folder, review_rows(16, 1), review_rows(8, 2))


def texts(folder):
    rows = review_rows(16, 4)["text"]
    return save_dataset(folder, {"text": rows}, {"text": rows[:4]})


# transformer type, tiny model, dataset, flags; rows of 4 a step, so the stop after step 1 of 2
# falls inside the first epoch wherever the data has more than one batch.
CASES = [
    ("AutoModelForSequenceClassification", "bert", reviews, ("--num-labels", "2")),
    ("AutoModelForTokenClassification", "bert", ner_dataset, ()),
    (
        "AutoModelForQuestionAnswering",
        "bert",
        squad_dataset,
        ("--max-length", "16", "--task", "doc_stride:int=4"),
    ),
    ("AutoModelForCausalLM", "llama", texts, ()),
    ("AutoModelForMaskedLM", "bert", texts, ()),
    ("AutoModelForImageClassification", "vit", image_dataset, ("--column", "image=picture")),
]


@pytest.mark.parametrize(("kind", "model", "dataset", "extra"), CASES, ids=[c[0] for c in CASES])
def test_rung_one_resumes_rung_zero_and_ends_as_the_full_run(
    tiny_models, tmp_path, kind, model, dataset, extra
):
    data = dataset(tmp_path / "data")

    def trial(name, *flags):
        run = run_in_process(
            *trial_args(tiny_models[model], data, tmp_path / name, kind, *extra), *flags
        )
        assert 0 == run.exit_code, run.stderr[-3000:]
        return run

    full = trial("full")
    checkpoints = tmp_path / "checkpoints" / "config-0"
    rungs = [
        trial(
            f"rung-{k}",
            "--rung",
            k,
            "--rungs",
            2,
            "--reduction-factor",
            2,
            "--checkpoint-dir",
            checkpoints,
        )
        for k in range(2)
    ]
    assert [[1], [1]] == [run.values("trained_steps") for run in rungs]
    assert [] == list(checkpoints.iterdir())  # rung 1 removed rung 0's; the top saves none

    full_weights = load_file(tmp_path / "full" / "adapter" / "adapter_model.safetensors")
    top_weights = load_file(tmp_path / "rung-1" / "adapter" / "adapter_model.safetensors")
    assert sorted(full_weights) == sorted(top_weights)
    for name, weights in full_weights.items():
        assert np.array_equal(weights, top_weights[name]), name
    evaluated = [name for name, _ in full.metrics() if name.startswith("eval_")]
    assert evaluated
    assert {n: full.values(n)[-1] for n in evaluated} == {
        n: rungs[1].values(n)[-1] for n in evaluated
    }
