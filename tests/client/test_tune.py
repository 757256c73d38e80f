"""tune() turns the seed API's call into a checked definition file and its rendered manifests."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

from client import (
    ClientError,
    DefinitionInvalid,
    DefinitionWarning,
    HuggingFaceDatasetParams,
    HuggingFaceModelParams,
    HuggingFaceTrainerParams,
    KatibClient,
    S3DatasetParams,
    search,
    secret,
)
from tests.client.seed_call import SEED_ARGUMENTS, SEED_DEFINITION
from tests.generator.conftest import results_of


def _tune(root: Path, name: str = "llama-3-2-fine-tune", client=None, **overrides):
    arguments = dict(
        model_provider_parameters=HuggingFaceModelParams(
            model_uri="hf://meta-llama/Llama-3.2-1B",
            transformer_type="AutoModelForSequenceClassification",
            num_labels=2,
            revision="0" * 40,
        ),
        dataset_provider_parameters=HuggingFaceDatasetParams(repo_id="imdb", split="train"),
        trainer_parameters={"training_parameters": {"learning_rate": search.double(1e-5, 5e-5)}},
        objective_metric_name="train_loss",
        objective_type="minimize",
        max_trial_count=8,  # required for a cluster: it bounds the GPU budget
    )
    arguments.update(overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DefinitionWarning)  # this call is expected to be clean
        return (client or KatibClient(root=root)).tune(name, **arguments)


class TestSeedCall:
    """The seed's own objects (SDK classes, TrainingArguments, LoraConfig, katib.search)."""

    def test_writes_the_definition_a_person_would_write(self, repo_copy, seed_objects):
        with pytest.warns(DefinitionWarning) as warned:
            result = KatibClient(namespace="kubeflow", root=repo_copy).tune(
                name="llama-3-2-fine-tune", **seed_objects, **SEED_ARGUMENTS
            )
        messages = [str(w.message) for w in warned]
        assert len(messages) == 2
        assert "4:1: warning: model revision is not pinned" in messages[0]
        assert "6:21: warning: num_labels is not set" in messages[1]
        path = repo_copy / "experiments/llama-3-2-fine-tune/experiment.yaml"
        assert path.read_text(encoding="utf-8") == SEED_DEFINITION
        assert result.changed and result.path == path
        assert "rendered/gpu-cluster-1/llama-3-2-fine-tune/experiment-llama-3-2-fine-tune.yaml" in (
            result.rendered
        )

    def test_written_files_are_readable_by_everyone(self, repo_copy, seed_objects):
        with pytest.warns(DefinitionWarning):
            result = KatibClient(root=repo_copy).tune(
                name="llama-3-2-fine-tune", **seed_objects, **SEED_ARGUMENTS
            )
        written = [result.path, *(repo_copy / path for path in result.rendered)]
        assert [0o644] * len(written) == [p.stat().st_mode & 0o777 for p in written]

    def test_the_seed_name_is_refused_with_a_valid_one_suggested(self, repo_copy, seed_objects):
        with pytest.raises(ClientError, match="use 'llama-3-2-fine-tune'"):
            KatibClient(root=repo_copy).tune(
                name="Llama-3.2-fine-tune", **seed_objects, **SEED_ARGUMENTS
            )
        assert list((repo_copy / "experiments").glob("llama-3-2-fine-tune*")) == []

    def test_a_second_identical_call_changes_nothing(self, repo_copy, seed_objects):
        client = KatibClient(root=repo_copy)
        with pytest.warns(DefinitionWarning):
            client.tune("llama-3-2-fine-tune", **seed_objects, **SEED_ARGUMENTS)
            again = client.tune("llama-3-2-fine-tune", **seed_objects, **SEED_ARGUMENTS)
        assert (again.changed, again.rendered) == (False, [])


class TestEveryCheckCiRuns:
    """tune() refuses what CI would refuse, before writing anything: the checks that look at the
    whole repository and the cluster's limits included."""

    def test_the_shipped_repository_accepts_a_newcomers_first_experiment(
        self, repo_copy, seed_objects, monkeypatch
    ):
        from generator.cli import main
        from tests.client.conftest import REPOSITORY

        shutil.copytree(REPOSITORY / "rendered", repo_copy / "rendered")
        with pytest.warns(DefinitionWarning):
            KatibClient(root=repo_copy).tune(
                name="llama-3-2-fine-tune", **seed_objects, **SEED_ARGUMENTS
            )
        monkeypatch.chdir(repo_copy)
        assert main(["check"]) == 0
        assert main(["render", "--check"]) == 0

    def test_the_cluster_wide_quota(self, repo_copy):
        """The shipped gpu-cluster-1 runs two examples of 4 GPUs each of its 16: two first
        experiments of 4 fit, a third does not, and is told who holds the GPUs."""
        gpus = {"parallel_trial_count": 2, "resources_per_trial": {"gpu": 2}}
        _tune(repo_copy, **gpus)
        _tune(repo_copy, name="second", **gpus)
        with pytest.raises(DefinitionInvalid) as raised:
            _tune(repo_copy, name="third", **gpus)
        message = str(raised.value)
        assert (
            "experiments/third/experiment.yaml:17:23: error: parallel_trial_count: the "
            "experiments on cluster 'gpu-cluster-1' that can still run trials could hold 20 GPUs "
            "at once, more than its gpu_quota of 16: llama-3-2-1b-imdb 4 (2 parallel x 2 GPUs), "
            "llama-3-2-1b-reviews-s3 4 (4 parallel x 1 GPU), llama-3-2-fine-tune 4 (2 parallel x "
            "2 GPUs), second 4 (2 parallel x 2 GPUs), third 4 (2 parallel x 2 GPUs)"
        ) in message
        assert "hpo archive --force experiments/llama-3-2-1b-imdb" in message
        assert not (repo_copy / "experiments/third").exists()
        assert not (repo_copy / "rendered/gpu-cluster-1/third").exists()

    def test_finished_experiments_leave_room(self, repo_copy):
        """Once llama-3-2-1b-imdb's results are merged, its GPUs are free for a third."""
        gpus = {"parallel_trial_count": 2, "resources_per_trial": {"gpu": 2}}
        _tune(repo_copy, **gpus)
        _tune(repo_copy, name="second", **gpus)
        finished = repo_copy / "experiments/llama-3-2-1b-imdb/results.yaml"
        finished.write_text(results_of("llama-3-2-1b-imdb"))
        _tune(repo_copy, name="third", **gpus)
        assert (repo_copy / "experiments/third/experiment.yaml").is_file()

    def test_the_gpu_hour_cap(self, repo_copy):
        with pytest.raises(DefinitionInvalid) as raised:
            _tune(repo_copy, max_trial_count=100, resources_per_trial={"gpu": 1})
        assert (
            "experiment.yaml:16:18: error: the worst case, 100 trials x 1 GPU(s) x 6 h = 600 "
            "GPU-hours, exceeds the 500 GPU-hours cluster 'gpu-cluster-1' allows per experiment"
        ) in str(raised.value)
        assert not (repo_copy / "experiments/llama-3-2-fine-tune").exists()


class TestArchived:
    def test_an_archived_name_is_refused_with_the_next_one(self, repo_copy):
        _tune(repo_copy)
        folder = repo_copy / "experiments/llama-3-2-fine-tune"
        (folder / "archive.yaml").write_text("stage: delete\n")
        before = (folder / "experiment.yaml").read_text()
        with pytest.raises(ClientError) as raised:
            _tune(repo_copy, max_trial_count=4, overwrite=True)
        assert (
            "experiments/llama-3-2-fine-tune is archived: its definition is the record of a run "
            "whose objects have left the cluster; to search again, create a new experiment "
            "instead: experiments/llama-3-2-fine-tune-v2/experiment.yaml"
        ) in str(raised.value)
        assert before == (folder / "experiment.yaml").read_text()


class TestWhatArgoCdDeploys:
    """tune() compares with the revision Argo CD deploys, as CI's hpo check --base does."""

    def _merge(self, repo_copy):
        from tests.client.conftest import git

        git(repo_copy, "add", "-A")
        git(repo_copy, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "merge")

    def test_a_merged_experiment_is_not_overwritten_with_a_new_search(self, repo_copy):
        _tune(repo_copy)
        self._merge(repo_copy)
        with pytest.raises(DefinitionInvalid) as raised:
            _tune(repo_copy, max_trial_count=12, objective_type="maximize", overwrite=True)
        assert "objective_type changed since main: Katib allows changing only" in str(raised.value)
        replaced = _tune(repo_copy, max_trial_count=12, overwrite=True)  # a count: allowed
        assert "max_trial_count: 12\n" in replaced.text

    def test_a_finished_experiment_takes_no_more_trials(self, repo_copy):
        _tune(repo_copy)
        folder = repo_copy / "experiments/llama-3-2-fine-tune"
        (folder / "results.yaml").write_text(results_of("llama-3-2-fine-tune"))
        self._merge(repo_copy)
        with pytest.raises(DefinitionInvalid) as raised:
            KatibClient(root=repo_copy).edit_experiment_budget(
                "llama-3-2-fine-tune", max_trial_count=20
            )
        assert (
            "max_trial_count changed since main, but llama-3-2-fine-tune has finished (its "
            "results are merged)"
        ) in str(raised.value)


class TestCredentials:
    """A token passed inline is refused and never echoed; a Secret reference is written."""

    def test_inline_token_is_refused_with_the_secret_to_use(self, repo_copy):
        model = HuggingFaceModelParams(
            "hf://meta-llama/Llama-3.2-1B",
            "AutoModelForSequenceClassification",
            access_token="hf_abcdefSECRET",
        )
        with pytest.raises(ClientError) as raised:
            _tune(repo_copy, model_provider_parameters=model)
        message = str(raised.value)
        assert "model_provider_parameters.access_token" in message
        assert "secret('NAME', 'KEY')" in message and "kubectl create secret" in message
        assert "hf_abcdefSECRET" not in message
        assert not (repo_copy / "experiments/llama-3-2-fine-tune").exists()

    def test_secret_reference_is_written_inline(self, repo_copy):
        dataset = S3DatasetParams(
            endpoint_url="https://s3.us-west-2.amazonaws.com",
            bucket_name="ml-datasets",
            file_key="reviews/reviews.csv",
            access_key=secret("s3-credentials", "access-key-id"),
            secret_key={"secret": "s3-credentials", "key": "secret-access-key"},
        )
        text = _tune(repo_copy, dataset_provider_parameters=dataset).text
        assert "  access_key: {secret: s3-credentials, key: access-key-id}\n" in text
        assert "  secret_key: {secret: s3-credentials, key: secret-access-key}\n" in text


class TestReferences:
    """tune() judges model and dataset references with hpo check's, and the download Job's,
    parser: a repo id the Hub refuses never reaches a file."""

    @pytest.mark.parametrize(
        ("model_uri", "repo_id", "field"),
        [
            ("hf://meta--llama/Llama-3.2-1B", "imdb", "model_uri: hf://meta--llama/Llama-3.2-1B"),
            ("hf://meta-llama/Llama-3.2-1B", "stanfordnlp/.imdb", "repo_id: stanfordnlp/.imdb"),
        ],
    )
    def test_a_repo_id_the_hub_refuses(self, repo_copy, model_uri, repo_id, field):
        model = HuggingFaceModelParams(
            model_uri, "AutoModelForSequenceClassification", num_labels=2, revision="0" * 40
        )
        dataset = HuggingFaceDatasetParams(repo_id=repo_id, split="train")
        with pytest.raises(DefinitionInvalid) as raised:
            _tune(repo_copy, model_provider_parameters=model, dataset_provider_parameters=dataset)
        assert f"error: {field}: the Hub refuses this repo id: " in str(raised.value)
        assert not (repo_copy / "experiments/llama-3-2-fine-tune").exists()


class TestClusterAndArguments:
    """Where the experiment goes, and arguments tune() cannot take."""

    def test_cluster_defaults_to_the_first_in_clusters_yaml(self, repo_copy):
        clusters = repo_copy / "argocd/clusters.yaml"
        text = clusters.read_text(encoding="utf-8")
        another = "  - name: gpu-b\n    gpu_quota: 8\n    default_trial_deadline_hours: 6\n"
        clusters.write_text(text + another, encoding="utf-8")
        assert "cluster: gpu-cluster-1\n" in _tune(repo_copy).text
        assert "cluster: gpu-b\n" in _tune(repo_copy, name="other", cluster="gpu-b").text
        assert (repo_copy / "rendered/gpu-b/other").is_dir()

    def test_unknown_cluster_is_a_located_problem(self, repo_copy):
        with pytest.raises(DefinitionInvalid) as raised:
            _tune(repo_copy, cluster="gpu-clustr-1")
        assert "experiments/llama-3-2-fine-tune/experiment.yaml:2:10: error: cluster " in str(
            raised.value
        )
        assert "did you mean 'gpu-cluster-1'?" in str(raised.value)
        assert not (repo_copy / "experiments/llama-3-2-fine-tune").exists()

    def test_unknown_argument_gets_a_hint(self, repo_copy):
        with pytest.raises(ClientError, match="'max_trial_cont'; did you mean 'max_trial_count'"):
            _tune(repo_copy, max_trial_cont=3)

    def test_function_mode_arguments_say_what_to_do_instead(self, repo_copy):
        with pytest.raises(ClientError, match="objective: not supported here: a Python"):
            _tune(repo_copy, objective=lambda parameters: None)

    def test_trainer_owned_field_in_a_mapping_is_refused(self, repo_copy):
        with pytest.raises(DefinitionInvalid, match="output_dir is set by the trainer"):
            _tune(repo_copy, trainer_parameters={"training_parameters": {"output_dir": "x"}})

    def test_changing_an_existing_definition_needs_a_new_name(self, repo_copy):
        _tune(repo_copy)
        with pytest.raises(ClientError, match="give the changed experiment a new name"):
            _tune(repo_copy, max_trial_count=4)
        replaced = _tune(repo_copy, max_trial_count=4, overwrite=True)
        assert replaced.changed and "max_trial_count: 4\n" in replaced.text

    def test_trainer_resources_are_flattened(self, repo_copy):
        from kubeflow.katib.types.types import TrainerResources

        resources = TrainerResources(2, 1, {"gpu": "1", "cpu": "500m", "memory": "8Gi"})
        shared = {"size": "20Gi", "storage_class": None, "access_modes": ["ReadWriteMany"]}
        text = _tune(
            repo_copy, resources_per_trial=resources, storage_config=shared, parallel_trial_count=2
        ).text
        expected = (
            "resources_per_trial: {gpu: 1, cpu: 500m, memory: 8Gi, num_workers: 2, "
            "num_procs_per_worker: 1}\n"
            "storage_config: {size: 20Gi, access_modes: [ReadWriteMany]}\n"
        )
        assert expected in text


class TestTrainingArgumentsObjects:
    """transformers 5 TrainingArguments holding search values, read field by field."""

    def test_fields_transformers_validates_take_search_values_through_with_search(self, repo_copy):
        import kubeflow.katib as katib
        from transformers import TrainingArguments

        from generator.client import HuggingFaceTrainerParams, with_search

        with pytest.raises((TypeError, ValueError)):  # why with_search exists
            TrainingArguments(warmup_steps=katib.search.int(min=0, max=100))
        arguments = with_search(
            TrainingArguments,
            output_dir="results",
            eval_strategy="epoch",
            warmup_steps=katib.search.int(min=0, max=100),
            lr_scheduler_type=katib.search.categorical(["linear", "cosine"]),
        )
        dataset = HuggingFaceDatasetParams(repo_id="imdb", split="train", eval_split="test")
        text = _tune(
            repo_copy,
            dataset_provider_parameters=dataset,
            trainer_parameters=HuggingFaceTrainerParams(training_parameters=arguments),
        ).text
        # output_dir belongs to the trainer; do_eval follows from eval_strategy: neither written.
        # Keys come in TrainingArguments' field order.
        expected = (
            "  training_parameters:\n"
            "    lr_scheduler_type: {search: categorical, values: [linear, cosine]}\n"
            "    warmup_steps: {search: int, min: 0, max: 100}\n"
            "    eval_strategy: epoch\n"
            "objective_metric_name"
        )
        assert expected in text


class TestTrainerChoices:
    """What the trainer would choose is written down; a default can be pinned; one switch
    turns every choice off."""

    def _arguments(self, **fields):
        from transformers import TrainingArguments

        return TrainingArguments(output_dir="o", learning_rate=search.double(1e-5, 5e-5), **fields)

    def test_a_pinned_default_is_written_and_no_longer_chosen(self, repo_copy):
        params = HuggingFaceTrainerParams(
            training_parameters=self._arguments(bf16=False),
            pinned_training_arguments=["bf16"],
        )
        text = _tune(repo_copy, trainer_parameters=params).text
        assert "    bf16: false\n" in text
        assert "#   bf16:" not in text and "#   torch_compile:" in text

    def test_an_unknown_pin_is_named(self, repo_copy):
        params = HuggingFaceTrainerParams(
            training_parameters=self._arguments(), pinned_training_arguments=["bf61"]
        )
        with pytest.raises(ClientError, match="TrainingArguments has no field bf61"):
            _tune(repo_copy, trainer_parameters=params)

    def test_exact_training_arguments_reach_the_trainer(self, repo_copy):
        params = HuggingFaceTrainerParams(
            training_parameters=self._arguments(), exact_training_arguments=True
        )
        result = _tune(repo_copy, trainer_parameters=params)
        assert "  exact_training_arguments: true\n" in result.text
        assert "the trainer chooses" not in result.text
        [experiment] = [p for p in result.rendered if "/experiment-" in p]
        assert "- --exact-training-arguments\n" in (repo_copy / experiment).read_text()
