"""End to end: `python -m trainer` on tiny real models, two steps, for every transformer type."""

from __future__ import annotations

import json
import random
import resource
import time

import numpy as np
import pytest
from safetensors.numpy import load_file

from tests.trainer.conftest import review_rows, save_dataset
from trainer import recipe
from trainer.catalog import COST_METRICS, metric_names

TWO_STEPS = ("--training", "max_steps:int=2", "--training", "per_device_train_batch_size:int=4")
LORA = ("--lora", "r:int=4", "--lora", "lora_alpha:int=8", "--lora", "lora_dropout:float=0.0")


def trial_args(model, dataset, output, transformer_type, *extra):
    return (
        "--model-dir", model, "--dataset-dir", dataset, "--output-dir", output,
        "--transformer-type", transformer_type, "--save-adapter", *TWO_STEPS, *LORA, *extra,
    )  # fmt: skip


# Measured, so they differ between two runs of the same trial; every other metric is repeatable.
MEASURED = {"peak_memory_mb", "train_samples_per_second", "train_runtime"}


@pytest.fixture
def trial(run_trial, monkeypatch):
    """`run_trial`, also returning the model the trial trained (the base model with LoRA, as the
    recipe built it) and the wall time of the whole trial in seconds."""
    built = []
    build = recipe.add_lora

    def add_lora(*args, **kwargs):
        built.append(build(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(recipe, "add_lora", add_lora)

    def run(*argv):
        start = time.monotonic()
        done = run_trial(*argv)
        return done, built[-1] if built else None, time.monotonic() - start

    return run


def assert_reported(run, transformer_type: str, has_eval: bool) -> None:
    """Exit 0; stdout holds only metric lines, each a metric the catalog names, for both steps."""
    assert run.exit_code == 0, run.stderr[-2000:]
    names = {name for name, _ in run.metrics()}
    assert names == set(metric_names(transformer_type, has_eval))
    assert len(run.metrics()) == len(run.stdout.splitlines())
    both_steps = [1.0, 2.0]
    assert both_steps == sorted(set(run.values("step")))
    # A value per logging step (every step here: 2 steps / 20 reports) and the final mean.
    assert len(run.values("train_loss")) == 3
    assert all(np.isfinite(v) for _, v in run.metrics())


def assert_costs(run, model, seconds: float) -> None:
    """The cost metrics: the parameter count first, then all of them once, after everything else;
    the trial ran both steps itself."""
    metrics = run.metrics()
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < count < sum(p.numel() for p in model.parameters())  # LoRA: most stays frozen
    assert ("trainable_params", count) == metrics[0]
    costs = len(COST_METRICS)
    assert [(name, run.values(name)[-1]) for name in COST_METRICS] == metrics[-costs:]
    assert [count, count] == run.values("trainable_params")
    assert isinstance(json.loads(run.stdout.splitlines()[-costs].partition("=")[2]), int)
    assert [2] == run.values("trained_steps")
    for name in MEASURED:
        assert 1 == len(run.values(name)), name
    # On the CPU the peak resident set of this process, in MiB (Linux counts KiB); the peak
    # only grows, so what was reported (to 8 digits) is at most the peak now.
    peak_now = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert 0 < run.values("peak_memory_mb")[0] <= float(f"{peak_now:.8g}")
    # As the Trainer computes them: 2 steps of 4 rows in train_runtime seconds.
    [runtime], [throughput] = run.values("train_runtime"), run.values("train_samples_per_second")
    assert 0 < runtime < seconds
    assert throughput * runtime == pytest.approx(8, rel=0.01)


def assert_adapter(output, task_type: str | None, modules: set[str]) -> dict:
    adapter = output / "adapter"
    config = json.loads((adapter / "adapter_config.json").read_text())
    assert (4, 8, task_type) == (config["r"], config["lora_alpha"], config["task_type"])
    assert modules == set(config["target_modules"])
    weights = load_file(adapter / "adapter_model.safetensors")
    assert any("lora_A" in key for key in weights)
    assert not (output / ".adapter.partial").exists()
    return weights


def ner_dataset(folder):
    from datasets import ClassLabel, Features, Sequence, Value

    tags = ClassLabel(names=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(tags)})
    rows = {
        "tokens": [["john", "lives", "in", "paris"], ["mary", "works", "at", "london"]] * 4,
        "ner_tags": [[1, 0, 0, 3], [1, 0, 0, 3]] * 4,
    }
    return save_dataset(folder, rows, rows, features=features)


def squad_dataset(folder):
    rows = {
        "question": ["who lives in paris", "where does mary work"] * 4,
        "context": ["john lives in paris", "mary works at london the film was good"] * 4,
        "answers": [
            {"text": ["john"], "answer_start": [0]},
            {"text": ["london"], "answer_start": [14]},
        ]
        * 4,
    }
    return save_dataset(folder, rows, rows)


def image_dataset(folder):
    from datasets import ClassLabel, Features, Image
    from PIL import Image as PILImage

    rng = random.Random(0)
    shades = [rng.choice((0, 255)) for _ in range(12)]
    images = [PILImage.new("RGB", (40, 40), (s, s, s)) for s in shades]
    labels = [int(s > 0) for s in shades]
    features = Features({"picture": Image(), "label": ClassLabel(names=["dark", "light"])})
    train = {"picture": images[:8], "label": labels[:8]}
    return save_dataset(folder, train, {"picture": images[8:], "label": labels[8:]}, features)


class TestSequenceClassification:
    """One text or a text pair to a class, with accuracy and F1 on the eval split."""

    def test_single_text_reports_accuracy_and_f1_and_saves_the_adapter(
        self, tiny_models, tmp_path, trial
    ):
        data = save_dataset(tmp_path / "data", review_rows(16, 1), review_rows(8, 2))
        kind = "AutoModelForSequenceClassification"
        labels = ("--num-labels", "2")
        args = trial_args(tiny_models["bert"], data, tmp_path / "out", kind, *labels)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=True)
        assert_costs(run, trained, seconds)
        assert all(0.0 <= v <= 1.0 for v in run.values("eval_accuracy") + run.values("eval_f1"))
        weights = assert_adapter(tmp_path / "out", "SEQ_CLS", {"query", "value"})
        # The new head is trained in full and saved with the adapter.
        assert any("classifier" in key for key in weights)

    def test_renamed_text_pair_and_string_labels_on_a_llama(self, tiny_models, tmp_path, trial):
        rows = review_rows(12, 3)
        train = {
            "review": rows["text"],
            "title": ["the film"] * 12,
            "sentiment": ["pos" if v else "neg" for v in rows["label"]],
        }
        data = save_dataset(tmp_path / "data", train)
        kind = "AutoModelForSequenceClassification"
        columns = ("--column", "text=review", "--column", "text_pair=title")
        columns += ("--column", "label=sentiment")
        args = trial_args(tiny_models["llama"], data, tmp_path / "out", kind, *columns)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=False)
        assert_costs(run, trained, seconds)
        assert_adapter(tmp_path / "out", "SEQ_CLS", {"q_proj", "v_proj"})

    def test_same_seed_same_metrics(self, tiny_models, tmp_path, run_trial):
        """Every metric repeats exactly but what is measured: memory, throughput, runtime."""
        data = save_dataset(tmp_path / "data", review_rows(16, 1), review_rows(8, 2))
        kind = "AutoModelForSequenceClassification"
        labels = ("--num-labels", "2")
        first = run_trial(*trial_args(tiny_models["bert"], data, tmp_path / "a", kind, *labels))
        second = run_trial(*trial_args(tiny_models["bert"], data, tmp_path / "b", kind, *labels))
        lines = [
            [line for line in run.stdout.splitlines() if line.partition("=")[0] not in MEASURED]
            for run in (first, second)
        ]
        assert lines[0] == lines[1]
        assert len(lines[0]) == len(first.stdout.splitlines()) - len(MEASURED)


class TestTokenClassification:
    """Word tags aligned to first sub-tokens; entity-level F1, precision and recall."""

    def test_reports_entity_scores(self, tiny_models, tmp_path, trial):
        data = ner_dataset(tmp_path / "data")
        kind = "AutoModelForTokenClassification"
        args = trial_args(tiny_models["bert"], data, tmp_path / "out", kind)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=True)
        assert_costs(run, trained, seconds)
        assert_adapter(tmp_path / "out", "TOKEN_CLS", {"query", "value"})


class TestQuestionAnswering:
    """SQuAD-style spans over strided windows; exact match and F1 against the answers."""

    def test_long_contexts_in_windows_report_exact_match_and_f1(self, tiny_models, tmp_path, trial):
        data = squad_dataset(tmp_path / "data")
        kind = "AutoModelForQuestionAnswering"
        window = ("--max-length", "16", "--task", "doc_stride:int=4")
        args = trial_args(tiny_models["bert"], data, tmp_path / "out", kind, *window)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=True)
        assert_costs(run, trained, seconds)
        assert all(0.0 <= v <= 1.0 for v in run.values("eval_exact_match"))
        assert_adapter(tmp_path / "out", "QUESTION_ANS", {"query", "value"})


class TestLanguageModels:
    """Causal LM on packed blocks and masked LM, both reporting perplexity = exp(eval_loss)."""

    @pytest.mark.parametrize(
        ("model", "kind", "task_type", "modules"),
        [
            ("llama", "AutoModelForCausalLM", "CAUSAL_LM", {"q_proj", "v_proj"}),
            ("bert", "AutoModelForMaskedLM", None, {"query", "value"}),
        ],
    )
    def test_reports_perplexity(
        self, tiny_models, tmp_path, trial, model, kind, task_type, modules
    ):
        texts = review_rows(16, 4)["text"]
        data = save_dataset(tmp_path / "data", {"text": texts}, {"text": texts[:4]})
        args = trial_args(tiny_models[model], data, tmp_path / "out", kind)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=True)
        assert_costs(run, trained, seconds)
        for loss, perplexity in zip(
            run.values("eval_loss"), run.values("eval_perplexity"), strict=True
        ):
            assert perplexity == pytest.approx(np.exp(loss), rel=1e-6)
        assert_adapter(tmp_path / "out", task_type, modules)


class TestImageClassification:
    """Images through the model's image processor; accuracy on the eval split."""

    def test_renamed_image_column_reports_accuracy(self, tiny_models, tmp_path, trial):
        data = image_dataset(tmp_path / "data")
        kind = "AutoModelForImageClassification"
        extra = ("--column", "image=picture")
        args = trial_args(tiny_models["vit"], data, tmp_path / "out", kind, *extra)
        run, trained, seconds = trial(*args)
        assert_reported(run, kind, has_eval=True)
        assert_costs(run, trained, seconds)
        weights = assert_adapter(tmp_path / "out", None, {"q_proj", "v_proj"})
        assert any("classifier" in key for key in weights)
