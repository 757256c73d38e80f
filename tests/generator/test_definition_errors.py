"""Every validation rule, each proved by one broken definition: message, line, exit code."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from generator.cli import main
from tests.generator.conftest import VALID_DEFINITION


def _line_of(text: str, marker: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in the definition")


def _edit(old: str, new: str) -> str:
    assert old in VALID_DEFINITION, old
    return VALID_DEFINITION.replace(old, new, 1)


# (id, definition text, text on the line the error must point at, message fragment)
CASES = [
    (
        "name-format",
        _edit("name: demo-exp", "name: Demo_Exp"),
        "name: Demo_Exp",
        "not a valid experiment name: use lowercase letters, digits and '-', starting with a "
        "letter, "
        "e.g. 'demo-exp'",
    ),
    (
        "cluster-unknown",
        _edit("gpu-cluster-1", "gpu-clustr-1"),
        "cluster:",
        "did you mean 'gpu-cluster-1'?",
    ),
    (
        "unknown-key",
        VALID_DEFINITION + "namespce: ml\n",
        "namespce",
        "unknown key 'namespce'; did you mean 'namespace'?",
    ),
    (
        "duplicate-key",
        VALID_DEFINITION + "objective_type: maximize\n",
        "objective_type: maximize",
        "duplicate key 'objective_type' (first set on line 24)",
    ),
    (
        "yaml-syntax",
        _edit("objective_type: minimize", "objective_type: [minimize"),
        "algorithm_name",
        "invalid YAML",
    ),
    (
        "literal-token",
        _edit("{secret: hf-token, key: token}", "hf_abcdefghijklmnop"),
        "access_token",
        "a literal credential is not allowed here",
    ),
    (
        "secret-name",
        _edit("{secret: hf-token", "{secret: HF_Token"),
        "access_token",
        "'HF_Token' is not a valid Secret name",
    ),
    (
        "transformer-type",
        _edit("AutoModelForSequenceClassification", "AutoModelForSeqClassification"),
        "transformer_type",
        "model_provider_parameters.transformer_type: Input should be",
    ),
    (
        "model-uri-scheme",
        _edit("hf://meta-llama/Llama-3.2-1B", "meta-llama/Llama-3.2-1B"),
        "model_uri",
        "did you mean 'hf://meta-llama/Llama-3.2-1B'?",
    ),
    (
        "local-path-on-cluster",
        _edit("hf://meta-llama/Llama-3.2-1B", "./models/llama"),
        "model_uri",
        "cannot be read by a cluster",
    ),
    (
        "s3-field-on-hub-model",
        _edit("  num_labels: 2\n", "  num_labels: 2\n  endpoint_url: https://s3\n"),
        "endpoint_url",
        "endpoint_url applies only to s3:// model URIs",
    ),
    (
        "search-type",
        _edit("search: double", "search: float"),
        "learning_rate",
        "unknown search type; use one of 'double', 'int', 'categorical', 'discrete'",
    ),
    (
        "search-bounds",
        _edit("min: 1e-5, max: 5e-5", "min: 5e-5, max: 1e-5"),
        "learning_rate",
        "max (1e-05) must be greater than min (5e-05)",
    ),
    ("int-bound-float", _edit("max: 32}", "max: 32.5}"), "r: {search", "valid integer"),
    (
        "log-uniform-min",
        _edit("min: 1e-5, max: 5e-5}", "min: 0.0, max: 5e-5, distribution: logUniform}"),
        "learning_rate",
        "logUniform needs min > 0",
    ),
    (
        "categorical-repeats",
        _edit("bias: none", "bias: {search: categorical, values: [none, none]}"),
        "bias:",
        "values repeat: 'none'",
    ),
    (
        "training-field-typo",
        _edit("num_train_epochs: 3", "num_train_epoch: 3"),
        "num_train_epoch",
        "'num_train_epoch' is not a field of TrainingArguments; did you mean 'num_train_epochs'?",
    ),
    (
        "training-field-type",
        _edit("num_train_epochs: 3", "num_train_epochs: three"),
        "num_train_epochs",
        "num_train_epochs takes float, not str ('three')",
    ),
    (
        "training-enum",
        _edit('save_strategy: "no"', "save_strategy: never"),
        "save_strategy",
        "save_strategy: 'never' is not one of no, steps, epoch, best",
    ),
    (
        "search-type-vs-field",
        _edit(
            "num_train_epochs: 3", "per_device_train_batch_size: {search: double, min: 4, max: 8}"
        ),
        "per_device_train_batch_size",
        "per_device_train_batch_size takes int, not float",
    ),
    (
        "trainer-owned-field",
        _edit("    num_train_epochs: 3\n", "    num_train_epochs: 3\n    output_dir: out\n"),
        "output_dir",
        "output_dir is set by the trainer",
    ),
    (
        "lora-field-typo",
        _edit("lora_alpha: 8", "lora_alfa: 8"),
        "lora_alfa",
        "did you mean 'lora_alpha'?",
    ),
    (
        "lora-literal",
        _edit("bias: none", "bias: some"),
        "bias:",
        "bias: 'some' is not one of none, all, lora_only",
    ),
    (
        "lora-task-type",
        _edit("    bias: none\n", "    bias: none\n    task_type: SEQ_CLS\n"),
        "task_type",
        "task_type is set by the trainer",
    ),
    (
        "objective-unknown",
        _edit("objective_metric_name: train_loss", "objective_metric_name: accuracy"),
        "objective_metric_name",
        "'accuracy' is not a metric the trainer reports",
    ),
    (
        "objective-needs-eval",
        _edit("objective_metric_name: train_loss", "objective_metric_name: eval_accuracy"),
        "objective_metric_name",
        "is reported only with an eval split",
    ),
    (
        "objective-type",
        _edit("objective_type: minimize", "objective_type: minimise"),
        "objective_type",
        "Input should be 'minimize' or 'maximize'",
    ),
    (
        "algorithm-unknown",
        _edit("algorithm_name: random", "algorithm_name: bayes"),
        "algorithm_name",
        "unknown algorithm 'bayes'",
    ),
    (
        "algorithm-setting-name",
        VALID_DEFINITION + "algorithm_settings: {seed: 3}\n",
        "algorithm_settings",
        "algorithm_settings.seed is not a setting of random (it accepts: random_state)",
    ),
    (
        "random-takes-no-gamma",
        VALID_DEFINITION + "algorithm_settings: {gamma: 0.5}\n",
        "algorithm_settings",
        "algorithm_settings.gamma is not a setting of random (it accepts: random_state)",
    ),
    (
        "seed-beyond-numpy",
        VALID_DEFINITION + "algorithm_settings: {random_state: 4294967296}\n",
        "algorithm_settings",
        "algorithm_settings.random_state must be at most 4294967295 (numpy's largest seed)",
    ),
    (
        "sobol-takes-no-settings",
        _edit("algorithm_name: random", "algorithm_name: sobol\nalgorithm_settings: {seed: 1}"),
        "algorithm_settings",
        "algorithm_settings.seed is not a setting of sobol (it accepts: none)",
    ),
    (
        "pbt-resample-probability",
        _edit(
            "algorithm_name: random",
            "algorithm_name: pbt\nalgorithm_settings: {suggestion_trial_dir: /t, "
            "n_population: 5, truncation_threshold: 0.2, resample_probability: 0.5}",
        ).replace("max: 5e-5}", "max: 5e-5, step: 1e-5}"),
        "algorithm_settings",
        "algorithm_settings.resample_probability cannot be set: Katib's pbt service fails",
    ),
    (
        "bayesian-uniform-only",
        _edit("algorithm_name: random", "algorithm_name: bayesianoptimization").replace(
            "max: 5e-5}", "max: 5e-5, distribution: logNormal}"
        ),
        "algorithm_name",
        "algorithm_name: bayesianoptimization samples only uniform and logUniform; "
        "'learning_rate' uses logNormal",
    ),
    (
        "algorithm-setting-value",
        _edit("algorithm_name: random", "algorithm_name: tpe\nalgorithm_settings: {gamma: 1.5}"),
        "algorithm_settings",
        "gamma must be strictly between 0 and 1, got 1.5",
    ),
    (
        "grid-needs-step",
        _edit("algorithm_name: random", "algorithm_name: grid"),
        "algorithm_name",
        "grid search needs a step for double parameter 'learning_rate'",
    ),
    (
        "cmaes-dimensions",
        _edit("algorithm_name: random", "algorithm_name: cmaes").replace(
            "r: {search: int, min: 8, max: 32}", "r: 8"
        ),
        "algorithm_name",
        "cmaes needs at least two int or double parameters",
    ),
    (
        "hyperband-settings",
        _edit("algorithm_name: random", "algorithm_name: hyperband"),
        "algorithm_name",
        "algorithm 'hyperband' needs the setting 'r_l'",
    ),
    (
        "nas-algorithm",
        _edit("algorithm_name: random", "algorithm_name: enas"),
        "algorithm_name",
        "neural architecture search",
    ),
    (
        "max-trials-zero",
        _edit("max_trial_count: 10", "max_trial_count: 0"),
        "max_trial_count",
        "max_trial_count must be greater than 0",
    ),
    (
        "parallel-over-max",
        _edit("max_trial_count: 10", "max_trial_count: 1"),
        "parallel_trial_count",
        "must not exceed max_trial_count",
    ),
    (
        "failed-over-max",
        VALID_DEFINITION + "max_failed_trial_count: 11\n",
        "max_failed_trial_count",
        "must not exceed max_trial_count",
    ),
    (
        "default-parallel",
        _edit("max_trial_count: 10\nparallel_trial_count: 2", "max_trial_count: 2"),
        "max_trial_count",
        "Katib defaults parallel_trial_count to 3",
    ),
    (
        "gpu-quota",
        _edit("parallel_trial_count: 2", "parallel_trial_count: 5"),
        "parallel_trial_count",
        "5 parallel trials x 2 GPUs = 10 GPUs, more than the 8 GPUs cluster 'gpu-cluster-1' allows",
    ),
    (
        "gpu-count",
        _edit("gpu: 2", "gpu: two"),
        "resources_per_trial",
        "gpu must be a whole number of GPUs, got 'two'",
    ),
    (
        "memory-quantity",
        _edit("memory: 10G", "memory: 10 gigs"),
        "resources_per_trial",
        "memory must be a positive Kubernetes quantity",
    ),
    (
        "env-credential",
        VALID_DEFINITION + "env_per_trial: {WANDB_API_KEY: abc123}\n",
        "env_per_trial",
        "WANDB_API_KEY looks like a credential",
    ),
    (
        "function-mode-argument",
        VALID_DEFINITION + "packages_to_install: [wandb]\n",
        "packages_to_install",
        "packages_to_install: not supported here",
    ),
    (
        "image-latest",
        VALID_DEFINITION + "images: {trainer: 'ghcr.io/acme/trainer:latest'}\n",
        "images:",
        "uses 'latest'",
    ),
    (
        "early-stopping-setting",
        VALID_DEFINITION
        + "early_stopping: {algorithm_name: medianstop, algorithm_settings: {start_step: 0}}\n",
        "early_stopping",
        "start_step must be >= 1, got 0",
    ),
    (
        "column-role",
        _edit("trainer_parameters:\n", "trainer_parameters:\n  columns: {txt: review}\n"),
        "columns",
        "'txt' is not a column role of AutoModelForSequenceClassification",
    ),
    (
        "split-syntax",
        _edit("split: train[:1000]", "split: train[:1000"),
        "split:",
        "is not a split expression",
    ),
    (
        "multi-node-volume",
        _edit("gpu: 2,", "gpu: 2, num_workers: 2,")
        + "storage_config: {access_modes: [ReadWriteOnce]}\n",
        "resources_per_trial",
        "storage_config.access_modes needs ReadWriteMany",
    ),
    (
        "nothing-tuned",
        _edit("{search: double, min: 1e-5, max: 5e-5}", "2e-5").replace(
            "{search: int, min: 8, max: 32}", "8"
        ),
        "trainer_parameters:",
        "nothing is tuned",
    ),
    (
        "fp16-and-bf16",
        _edit(
            "    num_train_epochs: 3\n", "    num_train_epochs: 3\n    fp16: true\n    bf16: true\n"
        ),
        "bf16",
        "set fp16 or bf16, not both",
    ),
    (
        "num-labels-not-applicable",
        _edit("AutoModelForSequenceClassification", "AutoModelForCausalLM"),
        "num_labels",
        "num_labels does not apply to AutoModelForCausalLM",
    ),
    (
        "categorical-shell-unsafe",
        _edit("bias: none", "bias: {search: categorical, values: [none, 'all; rm -rf x']}"),
        "bias:",
        "'all; rm -rf x' must use only letters, digits and _.,:/+=@%-",
    ),
    (
        "column-shell-unsafe",
        _edit("trainer_parameters:\n", "trainer_parameters:\n  columns: {text: Review Text}\n"),
        "columns",
        "column name 'Review Text' must use only letters, digits",
    ),
    (
        "search-bound-nan",
        _edit("min: 1e-5, max: 5e-5}", "min: .nan, max: 5e-5}"),
        "learning_rate",
        "Input should be a finite number",
    ),
    (
        "hyperband-overflowing-setting",
        _edit(
            "algorithm_name: random",
            "algorithm_name: hyperband\nalgorithm_settings: {r_l: '1e999', resource_name: r}",
        ),
        "algorithm_settings",
        "r_l must be a finite number, got 1e999",
    ),
    (
        "setting-infinite-one-line",
        _edit(
            "algorithm_name: random",
            "algorithm_name: hyperband\nalgorithm_settings: {r_l: .inf, resource_name: r}",
        ),
        "algorithm_settings",
        "algorithm_settings.r_l: Input should be a valid boolean or a valid integer or a "
        "finite number or a valid string",
    ),
    (
        "s3-model-key-pair",
        _edit("hf://meta-llama/Llama-3.2-1B", "s3://models/llama")
        .replace("  revision: 0123456789abcdef0123456789abcdef01234567\n", "")
        .replace("  num_labels: 2\n", "  num_labels: 2\n  access_key: {secret: s3, key: id}\n"),
        "model_provider_parameters:",
        "access_key and secret_key go together",
    ),
    (
        "revision-on-s3-model",
        _edit("hf://meta-llama/Llama-3.2-1B", "s3://models/llama"),
        "revision",
        "revision applies only to hf:// models",
    ),
    (
        "max-trials-required",
        _edit("max_trial_count: 10\nparallel_trial_count: 2\n", "parallel_trial_count: 2\n"),
        "name:",
        "set max_trial_count: without it Katib runs trials until the goal is met",
    ),
    (
        "storage-size-zero",
        VALID_DEFINITION + "storage_config: {size: '0'}\n",
        "storage_config",
        "size must be a positive Kubernetes quantity",
    ),
    (
        "storage-class-name",
        VALID_DEFINITION + "storage_config: {storage_class: Fast_SSD}\n",
        "storage_config",
        "'Fast_SSD' is not a valid StorageClass name",
    ),
    (
        "eval-split-same",
        _edit("split: train[:1000]", "split: train[:1000]\n  eval_split: train[:1000]"),
        "eval_split",
        "eval_split must differ from split",
    ),
    (
        "tuned-twice",
        _edit(
            "    lora_alpha: 8\n",
            "    lora_alpha: 8\n    learning_rate: {search: double, min: 0.1, max: 0.2}\n",
        ),
        "learning_rate: {search: double, min: 0.1",
        "'learning_rate' is tuned in both training_parameters and lora_config",
    ),
    (
        "grid-too-small",
        _edit("algorithm_name: random", "algorithm_name: grid")
        .replace(
            "{search: double, min: 1e-5, max: 5e-5}", "{search: discrete, values: [1e-5, 3e-5]}"
        )
        .replace("{search: int, min: 8, max: 32}", "{search: int, min: 8, max: 11}"),
        "algorithm_name",
        "max_trial_count 10 is more than the 8 points of the grid",
    ),
    (
        "hyperband-parallelism",
        _edit(
            "algorithm_name: random",
            "algorithm_name: hyperband\nalgorithm_settings: {r_l: 9, eta: 3, resource_name: r}",
        ),
        "algorithm_name",
        "needs parallel_trial_count >= 9",
    ),
    (
        "namespace-invalid",
        _edit("namespace: kubeflow", "namespace: Kubeflow"),
        "namespace",
        "'Kubeflow' is not a valid namespace",
    ),
    (
        "s3-endpoint-scheme",
        _edit(
            "  repo_id: stanfordnlp/imdb\n",
            "  endpoint_url: s3.example.com\n  bucket_name: data\n  file_key: imdb.csv\n",
        ),
        "endpoint_url",
        "endpoint_url must start with https:// or http://",
    ),
    (
        "yaml-tag",
        VALID_DEFINITION + "extra: !custom 1\n",
        "extra",
        "unsupported YAML tag !custom",
    ),
    (
        "yaml-several-documents",
        VALID_DEFINITION + "---\nname: other\n",
        "name: other",
        "expected one YAML document, found several",
    ),
    (
        "yaml-aliases",
        _edit("trainer_parameters:\n", "anchors: &shared {a: 1}\ntrainer_parameters:\n")
        + "again: *shared\n",
        "anchors: &shared",
        "YAML anchors and aliases are not supported",
    ),
    (
        "bayesian-log-scale",
        _edit("algorithm_name: random", "algorithm_name: bayesianoptimization").replace(
            "lora_dropout: 0.1", "lora_dropout: {search: double, min: 0.0, max: 0.2}"
        ),
        "algorithm_name",
        "bayesianoptimization samples doubles on a log scale: 'lora_dropout' needs min > 0",
    ),
    (
        "optuna-distribution",
        _edit("algorithm_name: random", "algorithm_name: multivariate-tpe").replace(
            "max: 5e-5}", "max: 5e-5, distribution: normal}"
        ),
        "algorithm_name",
        "multivariate-tpe samples only uniform and logUniform; 'learning_rate' uses normal",
    ),
    (
        "pbt-step",
        _edit(
            "algorithm_name: random",
            "algorithm_name: pbt\nalgorithm_settings: {suggestion_trial_dir: /t, "
            "n_population: 5, truncation_threshold: 0.2}",
        ),
        "algorithm_name",
        "pbt needs a step for double parameter 'learning_rate'",
    ),
    (
        "metric-strategy-unknown-metric",
        VALID_DEFINITION + "metric_strategies: {eval_accuracy: max}\n",
        "metric_strategies",
        "'eval_accuracy' is neither an objective nor in additional_metric_names",
    ),
    (
        "existing-claim-with-size",
        VALID_DEFINITION + "storage_config: {existing_claim: shared-cache, size: 20Gi}\n",
        "storage_config",
        "size describe a new claim; with existing_claim the claim already exists",
    ),
]


class TestEachRule:
    """A broken definition gets one located line naming what is wrong, and exit code 1."""

    @pytest.mark.parametrize(
        ("text", "marker", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
    )
    def test_rule(self, repo, capsys, text, marker, fragment):
        repo.write(text)
        assert main(["check"]) == 1
        err = capsys.readouterr().err
        line = _line_of(text, marker)
        located = [e for e in err.splitlines() if fragment in e]
        assert located, err
        assert located[0].startswith(f"experiments/demo-exp/experiment.yaml:{line}:"), located[0]
        assert ": error: " in located[0]
        assert "hpo check: failed" in err.splitlines()[-1]


# Problems of the YAML text itself, before any field exists, and the line each case's field is
# named on when it is not the key of the line the problem points at.
YAML_LEVEL = ("yaml-syntax", "yaml-tag", "yaml-several-documents", "yaml-aliases")
FIELD_NAMED = {
    "max-trials-required": "max_trial_count",
    "s3-model-key-pair": "access_key",
    "setting-infinite-one-line": "r_l",
    "hyperband-overflowing-setting": "r_l",
}


def _key_on(text: str, marker: str) -> str:
    """The key written on the marker's line (the first one of a flow mapping's line)."""
    line = text.splitlines()[_line_of(text, marker) - 1]
    return line.strip().lstrip("- ").split(":", 1)[0]


class TestMessagesNameTheirField:
    """Each message names the field it is about as the definition spells it (or its path), so a
    reader of a CI log knows what to change without opening the file at the line."""

    @pytest.mark.parametrize(
        ("case_id", "text", "marker", "fragment"),
        [c for c in CASES if c[0] not in YAML_LEVEL],
        ids=[c[0] for c in CASES if c[0] not in YAML_LEVEL],
    )
    def test_field_named(self, repo, capsys, case_id, text, marker, fragment):
        repo.write(text)
        main(["check"])
        [message] = [
            line.split(": error: ", 1)[1]
            for line in capsys.readouterr().err.splitlines()
            if fragment in line
        ][:1]
        field = FIELD_NAMED.get(case_id, _key_on(text, marker))
        assert re.search(rf"(^|[\s.'(]){re.escape(field)}([\s.:,')\[]|$)", message), message

    def test_counts_name_both_fields_and_values(self, repo, capsys):
        repo.write(VALID_DEFINITION + "max_failed_trial_count: 11\n")
        main(["check"])
        assert (
            "max_failed_trial_count (11) must not exceed max_trial_count (10)"
            in capsys.readouterr().err
        )

    def test_search_bounds_name_the_parameter(self, repo, capsys):
        repo.write(_edit("min: 1e-5, max: 5e-5", "min: 5e-5, max: 1e-5"))
        main(["check"])
        assert (
            "error: trainer_parameters.training_parameters.learning_rate: max (1e-05) must be "
            "greater than min (5e-05)"
        ) in capsys.readouterr().err


class TestNames:
    """Names are DNS-1123, at most 40 characters, and equal to the folder."""

    def test_too_long(self, repo, capsys):
        name = "a" * 41
        repo.write(_edit("name: demo-exp", f"name: {name}"), name=name)
        assert main(["check"]) == 1
        assert (
            f"experiments/{name}/experiment.yaml:1:7: error: name: '{name}' is 41 characters; "
            "Katib allows at most 40" in capsys.readouterr().err
        )

    def test_folder_mismatch(self, repo, capsys):
        repo.write(VALID_DEFINITION, name="other-folder")
        assert main(["check"]) == 1
        assert (
            "experiments/other-folder/experiment.yaml:1:7: error: name 'demo-exp' must equal "
            "its folder name 'other-folder'" in capsys.readouterr().err
        )


class TestAllAtOnce:
    """One run reports every problem, sorted by line, and a summary."""

    def test_three_problems(self, repo, capsys):
        text = (
            _edit("name: demo-exp", "name: Demo")
            .replace("  split: train", "  splits: train")
            .replace("objective_type: minimize", "objective_type: lowest")
        )
        repo.write(text)
        assert main(["check"]) == 1
        errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
        assert [int(e.split(":")[1]) for e in errors] == [1, 12, 24]

    def test_structure_and_checks_together(self, repo, capsys):
        """Broken keys are set aside so the checks that need a whole definition still run."""
        text = (
            _edit("name: demo-exp", "name: Demo_Exp")
            .replace("{secret: hf-token, key: token}", "hf_abcdefghijklmnop")
            .replace("num_train_epochs: 3", "num_train_epoch: 3")
            .replace("parallel_trial_count: 2", "parallel_trial_count: 5")
        )
        repo.write(text)
        assert main(["check"]) == 1
        errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
        assert [1, 9, 17, 27] == [int(e.split(":")[1]) for e in errors]
        assert "'num_train_epoch' is not a field of TrainingArguments" in errors[2]
        assert "5 parallel trials x 2 GPUs = 10 GPUs" in errors[3]

    def test_checks_after_structure(self, repo, capsys):
        """Cross-field checks run on a well-formed definition and report together."""
        text = (
            VALID_DEFINITION.replace("lora_alpha: 8", "lora_alfa: 8")
            .replace("algorithm_name: random", "algorithm_name: grid")
            .replace("max_trial_count: 10", "max_trial_count: 1")
        )
        repo.write(text)
        assert main(["check"]) == 1
        errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
        assert [int(e.split(":")[1]) for e in errors] == [20, 25, 27]


class TestNoTraceback:
    """Garbage never produces a traceback, through the installed console script."""

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "- just\n- a list\n",
            "name: [\n",
            "\x00\x01binary",
            "name: x\nname: y\n",
            "a: !!python/object:os.system x\n",
        ],
    )
    def test_garbage(self, repo, text):
        path = repo.write(text)
        done = subprocess.run(
            [sys.executable, "-m", "generator.cli", "check", str(path)],
            capture_output=True,
            text=True,
            cwd=repo.root,
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert "error:" in done.stderr
