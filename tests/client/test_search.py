"""Search values from Katib's SDK, from this project's helpers, and without the SDK installed."""

from __future__ import annotations

import importlib
import sys

import pytest

from client import search as client_search
from client.search import SearchSpaceError, as_search_space, search_dict
from generator.spec import CategoricalSearch, DoubleSearch, IntSearch


class TestKatibSearchValues:
    """kubeflow.katib.search's objects read as definition search spaces."""

    def test_double_bounds_are_floats_not_strings(self):
        import kubeflow.katib as katib

        space = as_search_space(katib.search.double(min=1e-05, max=5e-05, step=1e-05))
        assert space == DoubleSearch(search="double", min=1e-05, max=5e-05, step=1e-05)

    def test_int_bounds_are_ints(self):
        import kubeflow.katib as katib

        assert search_dict(as_search_space(katib.search.int(min=8, max=32))) == {
            "search": "int",
            "min": 8,
            "max": 32,
        }

    def test_categorical_values_are_found_where_katib_019_puts_them(self):
        import kubeflow.katib as katib

        parameter = katib.search.categorical([8, 16])
        assert parameter.feasible_space.list is None  # the SDK's bug this works around
        assert as_search_space(parameter) == CategoricalSearch(search="categorical", values=[8, 16])


class TestProjectHelpers:
    """The helpers take Katib's arguments and refuse spaces the definition would refuse."""

    def test_same_signature_as_katib(self):
        assert client_search.int(min=8, max=32, step=8) == IntSearch(
            search="int", min=8, max=32, step=8
        )
        assert search_dict(client_search.double(1e-5, 2e-4, distribution="logUniform")) == {
            "search": "double",
            "min": 1e-5,
            "max": 2e-4,
            "distribution": "logUniform",
        }
        assert search_dict(client_search.categorical(["linear", "cosine"])) == {
            "search": "categorical",
            "values": ["linear", "cosine"],
        }

    def test_invalid_space_is_a_clear_error(self):
        with pytest.raises(SearchSpaceError, match="invalid int search space"):
            client_search.int(min=1.5, max=3)
        with pytest.raises(SearchSpaceError, match="invalid categorical"):
            client_search.categorical([])


class TestWithoutKubeflowSdk:
    """With kubeflow-katib and kubeflow-training absent, the client still writes definitions."""

    def test_client_imports_and_writes_the_same_definition(self, repo_copy, monkeypatch):
        for name in list(sys.modules):
            if name == "kubeflow" or name.startswith(("kubeflow.", "generator.client")):
                monkeypatch.delitem(sys.modules, name)
        for name in ("kubeflow", "kubeflow.katib", "kubeflow.storage_initializer"):
            monkeypatch.setitem(sys.modules, name, None)  # import now raises ImportError
        with pytest.raises(ImportError):
            importlib.import_module("kubeflow.katib")
        client = importlib.import_module("generator.client")
        model = client.HuggingFaceModelParams(
            model_uri="hf://meta-llama/Llama-3.2-1B",
            transformer_type="AutoModelForSequenceClassification",
        )
        trainer = client.HuggingFaceTrainerParams(
            training_parameters={
                "learning_rate": client.search.double(min=1e-05, max=5e-05),
                "save_strategy": "no",
            },
            lora_config={"r": client.search.int(min=8, max=32), "lora_dropout": 0.1},
        )
        from tests.client.seed_call import SEED_ARGUMENTS, SEED_DEFINITION

        with pytest.warns(client.DefinitionWarning):
            result = client.KatibClient(namespace="kubeflow", root=repo_copy).tune(
                "llama-3-2-fine-tune",
                model_provider_parameters=model,
                dataset_provider_parameters=client.HuggingFaceDatasetParams(
                    repo_id="imdb", split="train[:1000]"
                ),
                trainer_parameters=trainer,
                **SEED_ARGUMENTS,
            )
        assert result.text == SEED_DEFINITION
        assert not any(m.startswith("kubeflow.") for m, v in sys.modules.items() if v)
