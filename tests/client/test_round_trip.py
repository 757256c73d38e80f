"""Definition -> Python objects -> definition gives back the same definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.client import KatibClient, tune_arguments
from generator.definition import load_definition, parse_definition
from tests.client.conftest import REPOSITORY

DEFINITIONS = sorted(REPOSITORY.glob("experiments/*/experiment.yaml"))


def _loaded(path: Path):
    loaded = load_definition(path)
    assert loaded.problems == []
    return loaded


def _written_again(root: Path, spec, **options):
    arguments = tune_arguments(spec, **options)
    name = arguments.pop("name")
    return KatibClient(root=root).tune(name, overwrite=True, **arguments)


@pytest.mark.filterwarnings("ignore::generator.client.DefinitionWarning")
class TestRepositoryDefinitions:
    """Every definition in experiments/ survives the trip through tune()'s arguments."""

    @pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name)
    def test_same_data_and_same_spec(self, repo_copy, path):
        original = _loaded(path)
        written = _written_again(repo_copy, original.spec)
        again = parse_definition(written.text, "again.yaml")
        assert again.document.data == original.document.data
        assert again.spec == original.spec

    @pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name)
    def test_written_text_is_a_fixed_point(self, repo_copy, path):
        first = _written_again(repo_copy, _loaded(path).spec).text
        second = _written_again(repo_copy, parse_definition(first, "first.yaml").spec)
        assert second.text == first
        assert not second.changed

    @pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.parent.name)
    def test_through_training_arguments_and_lora_config(self, repo_copy, path):
        """Real library objects keep every value except those equal to the library default."""
        from peft import LoraConfig
        from transformers import TrainingArguments

        original = _loaded(path)
        written = _written_again(repo_copy, original.spec, library_objects=True)
        data = parse_definition(written.text, "again.yaml").document.data
        expected = original.document.data
        for section, cls in (
            ("training_parameters", TrainingArguments),
            ("lora_config", LoraConfig),
        ):
            defaults = cls()
            expected["trainer_parameters"][section] = {
                key: value
                for key, value in expected["trainer_parameters"][section].items()
                if isinstance(value, dict) or getattr(defaults, key) != value
            }
        assert data == expected


class TestGeneratedDefinition:
    """A definition tune() wrote reads back into objects that write the identical text."""

    def test_seed_definition_round_trips_through_library_objects(self, repo_copy):
        from tests.client.seed_call import SEED_DEFINITION

        spec = parse_definition(SEED_DEFINITION, "seed.yaml").spec
        with pytest.warns(UserWarning):
            written = _written_again(repo_copy, spec, library_objects=True)
        assert written.text == SEED_DEFINITION
