"""Definition -> Python objects -> definition gives back the same definition."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from client import KatibClient, tune_arguments, with_search
from client.params import plain
from client.search import as_search_space
from generator.loading.definition import load_definition, parse_definition
from tests.client.conftest import REPOSITORY, git

DEFINITIONS = sorted(REPOSITORY.glob("experiments/*/experiment.yaml"))


def _loaded(path: Path):
    loaded = load_definition(path)
    assert loaded.problems == []
    return loaded


def _written_again(root: Path, spec, **options):
    arguments = tune_arguments(spec, **options)
    name = arguments.pop("name")
    return KatibClient(root=root).tune(name, overwrite=True, **arguments)


@pytest.mark.filterwarnings("ignore::client.DefinitionWarning")
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
        """Real library objects give the same objects back; keys whose value is the library's
        default, or follows from other keys (eval_steps from logging_steps), may drop out."""
        from peft import LoraConfig
        from transformers import TrainingArguments

        original = _loaded(path).document.data
        # Dropping default keys changes the text of a merged definition, which hpo check --base
        # (and so tune()) refuses: write it as a proposal, not yet on main.
        git(repo_copy, "rm", "-r", "-q", f"experiments/{path.parent.name}")
        git(repo_copy, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "unmerged")
        written = _written_again(repo_copy, _loaded(path).spec, library_objects=True)
        data = parse_definition(written.text, "again.yaml").document.data
        classes = {"training_parameters": TrainingArguments, "lora_config": LoraConfig}
        for section, cls in classes.items():
            before = original["trainer_parameters"].pop(section, {})
            after = data["trainer_parameters"].pop(section, {})
            assert set(after) <= set(before)
            assert _all_fields(cls, after) == _all_fields(cls, before)
        assert data == original


def _all_fields(cls, values: dict) -> dict:
    built = with_search(
        cls, **{k: as_search_space(v) if "search" in str(v) else v for k, v in values.items()}
    )
    return {f.name: plain(getattr(built, f.name)) for f in dataclasses.fields(cls)}


class TestGeneratedDefinition:
    """A definition tune() wrote reads back into objects that write the identical text."""

    def test_seed_definition_round_trips_through_library_objects(self, repo_copy):
        from tests.client.seed_call import SEED_DEFINITION

        spec = parse_definition(SEED_DEFINITION, "seed.yaml").spec
        with pytest.warns(UserWarning):
            written = _written_again(repo_copy, spec, library_objects=True)
        assert written.text == SEED_DEFINITION
